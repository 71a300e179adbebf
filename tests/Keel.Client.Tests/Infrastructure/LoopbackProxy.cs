// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Keel.Client.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on a loopback port in front of a server, that can do what proxies between clients and Keel do: hold back
/// a watch stream's response as a buffering proxy does (<see cref="BufferWatchStreams"/>), or cut every connection and
/// refuse new ones, as a network partition does (<see cref="Partitioned"/>).
/// </summary>
public sealed class LoopbackProxy : IAsyncDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly Uri _upstream;
    readonly CancellationTokenSource _stopping = new();
    readonly List<TcpClient> _open = [];
    readonly Task _accepting;
    bool _partitioned;

    public LoopbackProxy(Uri upstream)
    {
        _upstream = upstream;
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri Address { get; }

    /// <summary>Whether the answer to a request for <c>/api/v1/watch</c> is held back entirely, headers and all.</summary>
    public bool BufferWatchStreams { get; set; }

    /// <summary>How many watch requests went through the proxy.</summary>
    public int WatchRequests => Volatile.Read(ref _watchRequests);

    int _watchRequests;

    /// <summary>While set, every connection is cut and new ones are closed as soon as they are accepted.</summary>
    public bool Partitioned
    {
        get => _partitioned;
        set
        {
            _partitioned = value;
            if (value)
            {
                lock (_open)
                {
                    foreach (var client in _open)
                    {
                        client.Dispose();
                    }

                    _open.Clear();
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Dispose();
        Partitioned = true;
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stopping.Dispose();
    }

    async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            if (_partitioned)
            {
                client.Dispose();
                continue;
            }

            _ = Task.Run(() => RelayAsync(client));
        }
    }

    async Task RelayAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        lock (_open)
        {
            _open.Add(client);
            _open.Add(upstream);
        }

        try
        {
            await upstream.ConnectAsync(_upstream.Host, _upstream.Port, _stopping.Token);
            var held = false;
            var toServer = PumpAsync(client.GetStream(), upstream.GetStream(), chunk =>
            {
                if (Encoding.ASCII.GetString(chunk.Span).Contains("/api/v1/watch", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _watchRequests);
                    held |= BufferWatchStreams;
                }

                return true;
            });
            var toClient = PumpAsync(upstream.GetStream(), client.GetStream(), _ => !held);
            await Task.WhenAny(toServer, toClient);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            lock (_open)
            {
                _open.Remove(client);
                _open.Remove(upstream);
            }

            client.Dispose();
        }
    }

    async Task PumpAsync(NetworkStream from, NetworkStream to, Func<ReadOnlyMemory<byte>, bool> forward)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stopping.Token);
                if (read == 0)
                {
                    return;
                }

                if (forward(buffer.AsMemory(0, read)))
                {
                    await to.WriteAsync(buffer.AsMemory(0, read), _stopping.Token);
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }
}
