// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Keel.Server.Tests.Infrastructure;

/// <summary>
/// HTTP/1.1 over a bare socket, for requests HttpClient will not send (broken framing, a NUL in the path, a bad Host) and for
/// answers exactly as the server wrote them.
/// </summary>
public static class RawHttp
{
    /// <summary>Sends <paramref name="request"/> as it is and reads the answer until the server closes the connection.</summary>
    public static async Task<RawResponse> SendAsync(Uri server, byte[] request)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using var socket = new TcpClient();
        await socket.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = socket.GetStream();
        await stream.WriteAsync(request, timeout.Token);
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer, timeout.Token);
        return RawResponse.Parse(answer.ToArray());
    }

    /// <summary>Sends a request head (request line and headers, <c>\r\n</c> between lines, none at the end) and then <paramref name="body"/>.</summary>
    public static Task<RawResponse> SendAsync(Uri server, string head, string body = "") =>
        SendAsync(server, [.. Encoding.Latin1.GetBytes(head + "\r\n\r\n"), .. Encoding.UTF8.GetBytes(body)]);
}

/// <summary>An answer as it came off the socket, its body unchunked.</summary>
public sealed record RawResponse(string StatusLine, IReadOnlyList<(string Name, string Value)> Headers, string Body)
{
    public int Status => int.Parse(StatusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The header's value, or <see langword="null"/> when absent.</summary>
    public string? Header(string name) =>
        Headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    /// <summary>Asserts an RFC 7807 problem with the status and code, as <see cref="Http.ProblemAsync"/> does, and returns it.</summary>
    public JsonElement AssertProblem(int status, string code)
    {
        Assert.True(Status == status, $"Expected {status} but got: {this}");
        Assert.StartsWith("application/problem+json", Header("Content-Type"), StringComparison.Ordinal);
        using var document = JsonDocument.Parse(Body);
        var problem = document.RootElement.Clone();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal("urn:keel:problem:" + code, problem.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }

    public override string ToString() =>
        string.Join("\r\n", [StatusLine, .. Headers.Select(h => $"{h.Name}: {h.Value}"), "", Body]);

    internal static RawResponse Parse(byte[] bytes)
    {
        var text = Encoding.Latin1.GetString(bytes);
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headEnd > 0, $"The answer has no complete head: '{text}'");
        var lines = text[..headEnd].Split("\r\n");
        var headers = lines.Skip(1).Select(l => (l[..l.IndexOf(':', StringComparison.Ordinal)], l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())).ToList();
        var body = bytes.AsSpan(headEnd + 4);
        var chunked = headers.Any(h => h.Item1.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && h.Item2 == "chunked");
        return new RawResponse(lines[0], headers, Encoding.UTF8.GetString(chunked ? Unchunk(body) : body));
    }

    static byte[] Unchunk(ReadOnlySpan<byte> body)
    {
        using var result = new MemoryStream();
        while (true)
        {
            var lineEnd = body.IndexOf("\r\n"u8);
            Assert.True(lineEnd > 0, "A chunk has no size line.");
            var size = Convert.ToInt32(Encoding.Latin1.GetString(body[..lineEnd]).Split(';')[0], 16);
            body = body[(lineEnd + 2)..];
            if (size == 0)
            {
                return result.ToArray();
            }

            result.Write(body[..size]);
            body = body[(size + 2)..];
        }
    }
}
