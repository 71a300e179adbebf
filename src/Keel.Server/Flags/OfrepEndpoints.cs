// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Keel.Core.Flags;
using Keel.Core.Storage;
using Keel.Flags;
using Keel.Flags.JsonLogic;
using Keel.Server.Http;
using Keel.Server.Security;
using Microsoft.Extensions.Options;

namespace Keel.Server.Flags;

/// <summary>
/// The OpenFeature Remote Evaluation Protocol (OFREP) for every OpenFeature SDK: <c>POST /ofrep/v1/evaluate/flags/{key}</c>
/// and the bulk <c>POST /ofrep/v1/evaluate/flags</c>, evaluating the flags of the service and environment the evaluation
/// token is bound to. Shapes and codes are the specification's; where it is silent, flagd's: a disabled flag and a flag
/// without a default variant answer 200 without a value, so the client uses its own default; a missing targeting key or
/// an empty body is no error.
/// </summary>
static class OfrepEndpoints
{
    public static IEndpointRouteBuilder MapOfrepEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var ofrep = endpoints.MapGroup("/ofrep/v1/evaluate").WithTags("OFREP").RequireAuthorization(KeelPolicies.Evaluate);

        // Without allowed origins the routes carry no CORS policy at all, so they answer an OPTIONS request as before rather
        // than with an empty preflight answer.
        if (endpoints.ServiceProvider.GetRequiredService<IOptions<OfrepCorsOptions>>().Value.Enabled)
        {
            ofrep.RequireCors(OfrepCorsOptions.PolicyName);
        }

        ofrep.MapPost("/flags/{key}", EvaluateAsync).WithName("OfrepEvaluateFlag").WithSummary("Evaluates one flag for a context.");
        ofrep.MapPost("/flags", EvaluateAllAsync).WithName("OfrepEvaluateFlags").WithCompression().WithSummary("Evaluates every flag for a context; answers If-None-Match with 304.");
        return endpoints;
    }

    static async Task<IResult> EvaluateAsync(
        string key, HttpContext httpContext, IConfigStore store, CompiledFlags compiled, IOptions<LimitsOptions> limits, TimeProvider time, CancellationToken cancellationToken)
    {
        var token = httpContext.Token();
        if (!TryReadContext(await ReadBodyAsync(httpContext.Request, limits.Value, cancellationToken), out var context, out var contextError))
        {
            return Answer(StatusCodes.Status400BadRequest, w => WriteError(w, key, FlagErrorCodes.InvalidContext, contextError, null));
        }

        // A path that would give a key a second URL (a bare '%', %2F, an escape that is not UTF-8) addresses no flag, as the flag
        // API refuses it; OFREP has no error for a malformed key, so the flag is not found.
        var entry = PathEscapes.FindAmbiguous(httpContext) is null && FlagStorage.IsValidKey(key, out _)
            ? await store.GetAsync(FlagStorage.Id(token.ServiceName!, token.Environment!, key), cancellationToken)
            : null;
        if (entry is null)
        {
            return Answer(StatusCodes.Status404NotFound, w => WriteError(w, key, FlagErrorCodes.FlagNotFound, $"No flag has the key '{key}'.", null));
        }

        var result = compiled.Evaluate(entry, context, time.GetUtcNow());
        return result.Reason == FlagReasons.Error
            ? Answer(StatusCodes.Status400BadRequest, w => WriteError(w, key, result.ErrorCode!, result.ErrorDetails, result.Metadata))
            : Answer(StatusCodes.Status200OK, w => WriteSuccess(w, result));
    }

    static async Task<IResult> EvaluateAllAsync(
        HttpContext httpContext, SnapshotReads reads, CompiledFlags compiled, IOptions<LimitsOptions> limits, TimeProvider time, CancellationToken cancellationToken)
    {
        var token = httpContext.Token();
        if (!TryReadContext(await ReadBodyAsync(httpContext.Request, limits.Value, cancellationToken), out var context, out var contextError))
        {
            return Answer(StatusCodes.Status400BadRequest, w => WriteError(w, null, FlagErrorCodes.InvalidContext, contextError, null));
        }

        var snapshot = await reads.ListAsync(httpContext, token.ServiceName!, FlagStorage.Environment(token.Environment!), cancellationToken);
        var now = time.GetUtcNow();
        var body = Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("flags");
            foreach (var entry in snapshot.Entries)
            {
                var result = compiled.Evaluate(entry, context, now);
                if (result.Reason == FlagReasons.Error)
                {
                    WriteError(w, result.Key, result.ErrorCode!, result.ErrorDetails, result.Metadata);
                }
                else
                {
                    WriteSuccess(w, result);
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });

        // The tag is of the answer itself, so it changes whenever a definition, the context or the time makes any result change.
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(body.Span)[..16]) + "\"";
        httpContext.Response.Headers.ETag = etag;
        httpContext.Response.Headers.CacheControl = "no-cache";
        return EntityTags.IfNoneMatchHits(httpContext.Request, etag)
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Bytes(body, "application/json");
    }

    /// <summary>The body, of any content type: OFREP clients send JSON, and some say so only loosely.</summary>
    static Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, LimitsOptions limits, CancellationToken cancellationToken) =>
        JsonBody.ReadBytesAsync(
            request, limits.MaxValueBytes, $"An evaluation context may be at most {limits.MaxValueBytes} bytes (Keel:Limits:MaxValueBytes).", cancellationToken);

    /// <summary>Reads <c>{"context": {...}}</c>; an empty body, or one without a context, is the empty context.</summary>
    static bool TryReadContext(ReadOnlyMemory<byte> body, out LogicObject context, out string error)
    {
        context = LogicObject.From([]);
        error = string.Empty;
        if (body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return true;
        }

        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "The body is an object: {\"context\": {...}}.";
                return false;
            }

            if (!root.TryGetProperty("context", out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return true;
            }

            if (value.ValueKind != JsonValueKind.Object)
            {
                error = "The context is an object of properties, such as {\"targetingKey\": \"user-1\"}.";
                return false;
            }

            context = LogicObject.FromJson(value);
            return true;
        }
        catch (JsonException)
        {
            error = "The body is not valid JSON.";
            return false;
        }
        catch (InvalidOperationException)
        {
            error = "The context holds text that is not valid Unicode (such as an unpaired surrogate escape).";
            return false;
        }
    }

    static IResult Answer(int status, Action<Utf8JsonWriter> write) =>
        Results.Content(System.Text.Encoding.UTF8.GetString(Write(write).Span), "application/json", System.Text.Encoding.UTF8, status);

    static ReadOnlyMemory<byte> Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }

        return buffer.WrittenMemory;
    }

    static void WriteSuccess(Utf8JsonWriter writer, FlagResult result)
    {
        writer.WriteStartObject();
        writer.WriteString("key", result.Key);
        if (result.Value is { } value)
        {
            writer.WritePropertyName("value");
            value.WriteTo(writer);
            writer.WriteString("variant", result.Variant);
        }

        writer.WriteString("reason", result.Reason);
        WriteMetadata(writer, result.Metadata);
        writer.WriteEndObject();
    }

    static void WriteError(Utf8JsonWriter writer, string? key, string code, string? details, IReadOnlyDictionary<string, LogicValue>? metadata)
    {
        writer.WriteStartObject();
        if (key is not null)
        {
            writer.WriteString("key", key);
        }

        writer.WriteString("errorCode", code);
        if (details is not null)
        {
            writer.WriteString("errorDetails", details);
        }

        if (metadata is not null)
        {
            WriteMetadata(writer, metadata);
        }

        writer.WriteEndObject();
    }

    static void WriteMetadata(Utf8JsonWriter writer, IReadOnlyDictionary<string, LogicValue> metadata)
    {
        writer.WriteStartObject("metadata");
        foreach (var (name, value) in metadata)
        {
            writer.WritePropertyName(name);
            value.WriteTo(writer);
        }

        writer.WriteEndObject();
    }
}
