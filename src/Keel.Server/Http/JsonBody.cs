// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Keel.Core;
using Keel.Core.Configs;
using Microsoft.Net.Http.Headers;

namespace Keel.Server.Http;

/// <summary>
/// Reads a JSON request body into a request type, turning every way it can be wrong into a <see cref="KeelException"/> that
/// names the field: 415 for a body that is not JSON, 413 for one over the limit, 400 for bad syntax or shape.
/// </summary>
static class JsonBody
{
    // One level more than a value may nest, for the body's own object around a json config_value. Repeated names are
    // checked at the top level here; inside a json value they are the value check's business.
    static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = ConfigValues.MaxNestingDepth + 1,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    public static async Task<T> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
        where T : class
    {
        EnsureJsonContentType(request);

        // The body is read whole and checked as UTF-8 first: the JSON reader decodes strings lazily, so invalid bytes inside
        // a string would otherwise surface later, as a decoding failure in the middle of binding. Parsing before binding also
        // tells the two kinds of error apart: a syntax error has a position in the text, a shape error a path in the document.
        var body = await ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        if (!Utf8.IsValid(body.Span))
        {
            throw new KeelException(KeelError.MalformedRequest, "The request body is not valid UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw SyntaxError(e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new KeelException(
                    KeelError.MalformedRequest,
                    $"The request body must be a JSON object, not {Describe(document.RootElement.ValueKind)}.",
                    [new FieldError("$", "The request body must be a JSON object.")]);
            }

            EnsureUniqueFieldNames(document.RootElement);
            try
            {
                return document.RootElement.Deserialize(typeInfo)!;
            }
            catch (JsonException e) when (e.InnerException is InvalidOperationException inner && IsDecodingFailure(inner))
            {
                throw NotUnicode();
            }
            catch (JsonException e)
            {
                throw ShapeError(e, typeInfo);
            }
            catch (InvalidOperationException)
            {
                // Decoding a string with an escaped unpaired surrogate (\ud800) fails here, after the syntax check passed.
                throw NotUnicode();
            }
        }
    }

    /// <summary>Reads a JSON body as text, for endpoints that keep the document as sent.</summary>
    /// <exception cref="KeelException">The body is not JSON by its Content-Type (415) or not UTF-8 (400).</exception>
    public static Task<string> ReadTextAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ReadTextAsync(request, long.MaxValue, string.Empty, cancellationToken);

    /// <summary>Reads a JSON body as text, refusing one of more than <paramref name="maxBytes"/> bytes with 413 and <paramref name="tooLarge"/>.</summary>
    public static async Task<string> ReadTextAsync(HttpRequest request, long maxBytes, string tooLarge, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            throw new KeelException(KeelError.PayloadTooLarge, tooLarge);
        }

        EnsureJsonContentType(request);
        var body = await ReadBytesAsync(request, maxBytes, tooLarge, cancellationToken).ConfigureAwait(false);
        if (!Utf8.IsValid(body.Span))
        {
            throw new KeelException(KeelError.MalformedRequest, "The request body is not valid UTF-8.");
        }

        return System.Text.Encoding.UTF8.GetString(body.Span);
    }

    static void EnsureUniqueFieldNames(JsonElement root)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw new KeelException(
                        KeelError.MalformedRequest,
                        $"The request body repeats the field '{property.Name}'; send each field once.",
                        [new FieldError(property.Name, $"{property.Name} appears more than once.")]);
                }
            }
        }
        catch (InvalidOperationException)
        {
            throw NotUnicode();
        }
    }

    // The serializer reports an escaped unpaired surrogate with the same exception type as a token of the wrong type.
    static bool IsDecodingFailure(InvalidOperationException e) =>
        e.Message.Contains("surrogate", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("UTF-16", StringComparison.Ordinal);

    static KeelException NotUnicode() =>
        new(KeelError.MalformedRequest, "The request body holds a string that is not valid Unicode (an escaped unpaired surrogate).");

    /// <summary>Reads a body of any type, refusing one of more than <paramref name="maxBytes"/> bytes with 413 and <paramref name="tooLarge"/>.</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadBytesAsync(HttpRequest request, long maxBytes, string tooLarge, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            throw new KeelException(KeelError.PayloadTooLarge, tooLarge);
        }

        var body = await ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        return body.Length > maxBytes ? throw new KeelException(KeelError.PayloadTooLarge, tooLarge) : body;
    }

    static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // Kestrel enforces Keel:Limits:MaxRequestBodyBytes while the body streams in, so the buffer never outgrows it; its 413
        // reaches KeelExceptionHandler, which answers every over-limit body the same way.
        var capacity = (int)Math.Min(request.ContentLength ?? 4096, 1024 * 1024);
        using var buffer = new MemoryStream(capacity);
        try
        {
            await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            // Kestrel reports most broken framing as BadHttpRequestException, but a chunk size that overflows as a plain
            // IOException (and a client that resets mid-body as one too); either way the body cannot be read.
            throw new BadHttpRequestException("The request body could not be read.", StatusCodes.Status400BadRequest, e);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    static void EnsureJsonContentType(HttpRequest request)
    {
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            && (mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || (mediaType.Type.Equals("application", StringComparison.OrdinalIgnoreCase)
                    && mediaType.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase)))
            && (!mediaType.Charset.HasValue
                || HeaderUtilities.RemoveQuotes(mediaType.Charset).Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return;
        }

        throw new KeelException(
            KeelError.UnsupportedMediaType,
            request.ContentType is null
                ? "The request has no Content-Type; send the body as application/json."
                : "The request body must be application/json in UTF-8.");
    }

    static KeelException SyntaxError(JsonException e)
    {
        // The reader's own message quotes the offending text, which may be part of a secret; the position is enough.
        if (e.LineNumber is null)
        {
            return new KeelException(KeelError.MalformedRequest, "The request body is not valid JSON.");
        }

        var line = e.LineNumber + 1;
        var position = e.BytePositionInLine + 1;
        var detail = e.Message.Contains("does not contain any JSON tokens", StringComparison.Ordinal)
            ? "The request body is empty; send a JSON object."
            : e.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase)
                ? $"The request body nests deeper than {DocumentOptions.MaxDepth} levels (line {line})."
                : $"The request body is not valid JSON (line {line}, byte {position}).";
        return new KeelException(KeelError.MalformedRequest, detail);
    }

    static KeelException ShapeError(JsonException e, JsonTypeInfo typeInfo)
    {
        var path = string.IsNullOrEmpty(e.Path) ? "$" : e.Path;
        var field = FieldName(path);
        var property = typeInfo.Properties.FirstOrDefault(p => p.Name == field);
        var message = property is null
            ? $"'{field}' is not a field of this request."
            : $"{field} must be {ExpectedType(property.PropertyType)}.";
        var error = new FieldError(field ?? path, message);
        return new KeelException(
            KeelError.MalformedRequest,
            message,
            [error]);
    }

    // "$.config_keys[3]" -> "config_keys"; only top-level fields exist in request bodies.
    static string? FieldName(string path)
    {
        if (!path.StartsWith("$.", StringComparison.Ordinal) && !path.StartsWith("$['", StringComparison.Ordinal))
        {
            return path;
        }

        var name = path.StartsWith("$['", StringComparison.Ordinal) ? path[3..path.IndexOf('\'', 3)] : path[2..];
        var end = name.IndexOfAny(['.', '[']);
        return end < 0 ? name : name[..end];
    }

    static string ExpectedType(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(string) ? "a string"
            : type == typeof(bool) ? "true or false"
            : type == typeof(long) || type == typeof(int) ? "an integer"
            : type == typeof(List<string>) ? "an array of strings"
            : type == typeof(JsonElement) ? "a JSON value"
            : "of another type";
    }

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "this",
    };

    /// <summary>Lets this request's body grow to <paramref name="maxBytes"/>, past the server's default, as an import's may.</summary>
    public static void AllowBodyOf(HttpContext httpContext, long maxBytes)
    {
        if (httpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = maxBytes;
        }
    }
}
