// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Text.Json;
using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Schemas;
using Keel.Core.Storage;
using Microsoft.Extensions.Options;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Keel.Server.Schemas;

/// <summary>A value about to be written, and where the request holds it (for the error's path).</summary>
readonly record struct SchemaCandidate(string Key, string Value, ConfigValueType ValueType, string Location);

/// <summary>
/// Validates values against the JSON Schemas of their service before any write path commits them. The schemas are read from
/// the store on each validation, so every node applies a schema from the moment its put returns; compiled schemas are kept by
/// version.
/// </summary>
/// <remarks>
/// A write validated against a schema that is replaced while the write is in flight may commit under the old one; <c>/check</c>
/// finds any value that no longer validates.
/// </remarks>
sealed class SchemaValidator(ISchemaStore store, IOptions<SchemaOptions> options)
{
    const int MaxCompiled = 10_000;

    readonly ConcurrentDictionary<(string Service, string Pattern, long Version), CompiledSchema> _compiled = new();

    /// <summary>Checks every candidate against the schema that applies to its key.</summary>
    /// <exception cref="KeelException">
    /// Values violate their schemas (<see cref="KeelError.SchemaViolation"/>, listing every error), or a schema cannot be
    /// checked within its budget (<see cref="KeelError.SchemaTooComplex"/>).
    /// </exception>
    public async Task ValidateAsync(string serviceName, IEnumerable<SchemaCandidate> candidates, CancellationToken cancellationToken)
    {
        var schemas = await store.ListSchemasAsync(serviceName, cancellationToken);
        if (schemas.Count == 0)
        {
            return;
        }

        List<FieldError> errors = [];
        var keys = new List<string>();
        foreach (var candidate in candidates)
        {
            if (Find(schemas, candidate.Key) is not { } schema)
            {
                continue;
            }

            var before = errors.Count;
            var compiled = await CompileAsync(schema, cancellationToken);
            AddErrors(compiled, candidate.Key, candidate.ValueType, candidate.Value, candidate.Location, errors, cancellationToken);
            if (errors.Count > before)
            {
                keys.Add(candidate.Key);
            }
        }

        if (errors.Count > 0)
        {
            throw Violation(keys, errors);
        }
    }

    /// <summary>Adds the errors of one value against a compiled schema to <paramref name="errors"/>, with paths under <paramref name="location"/>.</summary>
    /// <exception cref="KeelException">The schema cannot be checked within its budget (<see cref="KeelError.SchemaTooComplex"/>).</exception>
    public static void AddErrors(
        CompiledSchema compiled, string key, ConfigValueType type, string value, string location, List<FieldError> errors, CancellationToken cancellationToken)
    {
        var json = ConfigValues.ToJson(type, value, out var error);
        if (json is null)
        {
            errors.Add(new FieldError(location, error!));
            return;
        }

        ICollection<ValidationError> found;
        try
        {
            found = compiled.Validate(json, cancellationToken);
        }
        catch (SchemaBudgetExceededException e)
        {
            throw new KeelException(
                KeelError.SchemaTooComplex,
                $"The value of key '{key}' cannot be checked against its schema: {e.Reason}. Simplify the schema; nothing was written.",
                [new FieldError(location, $"The schema cannot be checked within its budget: {e.Reason}.")]);
        }

        foreach (var e in Flatten(found))
        {
            errors.Add(new FieldError(Path(location, e.Path), Describe(e)));
        }
    }

    /// <summary>The schema that applies to <paramref name="key"/>, by the most specific pattern.</summary>
    public static ConfigSchema? Find(IReadOnlyList<ConfigSchema> schemas, string key)
    {
        var pattern = SchemaPatterns.MostSpecific(schemas.Select(s => s.KeyPattern), key);
        return pattern is null ? null : schemas.First(s => s.KeyPattern == pattern);
    }

    /// <summary>Checks, parses and compiles a schema document as a client sent it, refusing references outside it.</summary>
    /// <exception cref="KeelException">The document is not JSON (400) or not a JSON Schema Keel can use (422).</exception>
    public async Task<CompiledSchema> CompileAsync(string document, CancellationToken cancellationToken)
    {
        CheckDocument(document);
        try
        {
            var schema = await JsonSchema.FromJsonAsync(document, documentPath: null, static schema => new LocalReferencesOnly(schema), cancellationToken);
            return CompiledSchema.Create(schema, options.Value);
        }
        catch (Exception e) when (e is Newtonsoft.Json.JsonException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            throw new KeelException(
                KeelError.InvalidValue,
                "The body is not a JSON Schema Keel can use: " + (e is NotSupportedException ? e.Message : "it does not parse, or a $ref does not resolve inside it."),
                [new FieldError("$", e is NotSupportedException ? e.Message : "The schema does not parse, or a $ref does not resolve inside it.")]);
        }
    }

    /// <summary>Refuses what is not JSON, or not an object, true or false, or has a keyword of the wrong shape.</summary>
    static void CheckDocument(string text)
    {
        try
        {
            // A schema is stored and served as sent, so it must be as readable as a json value.
            using var parsed = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = ConfigValues.MaxNestingDepth });
            if (JsonText.HasUnpairedSurrogate(System.Text.Encoding.UTF8.GetBytes(text), ConfigValues.MaxNestingDepth))
            {
                throw new KeelException(
                    KeelError.InvalidValue,
                    "The schema holds a string that is not valid Unicode (an escaped unpaired surrogate).",
                    [new FieldError("$", "The schema holds an escaped unpaired surrogate.")]);
            }

            if (parsed.RootElement.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
            {
                throw new KeelException(KeelError.InvalidValue, "A JSON Schema is an object (or true or false).", [new FieldError("$", "A JSON Schema is an object.")]);
            }

            if (SchemaKeywords.Check(parsed.RootElement) is { Count: > 0 } errors)
            {
                throw new KeelException(
                    KeelError.InvalidValue,
                    $"The body is not a valid JSON Schema: {errors.Count} keyword{(errors.Count == 1 ? " has" : "s have")} a value of the wrong shape.",
                    errors);
            }
        }
        catch (JsonException)
        {
            throw new KeelException(KeelError.MalformedRequest, "The body is not valid JSON; send the JSON Schema document itself.");
        }
    }

    public static KeelException Violation(IReadOnlyList<string> keys, List<FieldError> errors) => new(
        KeelError.SchemaViolation,
        keys.Count == 1
            ? $"The value of key '{keys[0]}' does not validate against its schema ({errors.Count} error{(errors.Count == 1 ? "" : "s")}); nothing was written."
            : $"The values of {keys.Count} keys do not validate against their schemas ({errors.Count} errors); nothing was written.",
        errors);

    async Task<CompiledSchema> CompileAsync(ConfigSchema schema, CancellationToken cancellationToken)
    {
        var key = (schema.ServiceName, schema.KeyPattern, schema.Version);
        if (_compiled.TryGetValue(key, out var compiled))
        {
            return compiled;
        }

        compiled = await CompileAsync(schema.Schema, cancellationToken);
        if (_compiled.Count >= MaxCompiled)
        {
            _compiled.Clear();
        }

        _compiled[key] = compiled;
        return compiled;
    }

    static IEnumerable<ValidationError> Flatten(IEnumerable<ValidationError> errors)
    {
        foreach (var error in errors)
        {
            if (error is ChildSchemaValidationError child && child.Errors.Count > 0)
            {
                foreach (var nested in Flatten(child.Errors.SelectMany(e => e.Value)))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return error;
            }
        }
    }

    /// <summary>The value's JSON path under <paramref name="location"/>: <c>#/db/port</c> under <c>$.config_value</c> is <c>$.config_value.db.port</c>.</summary>
    static string Path(string location, string? path)
    {
        var result = location;
        foreach (var part in (path ?? "#").TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            result += int.TryParse(part, out _) ? $"[{part}]" : "." + part;
        }

        return result;
    }

    static string Describe(ValidationError error)
    {
        var kind = error.Kind.ToString();
        var words = string.Concat(kind.Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : c.ToString()));
        return error.Property is { Length: > 0 } property && error.Kind == ValidationErrorKind.PropertyRequired
            ? $"{words}: '{property}'."
            : words + ".";
    }

    /// <summary>Resolves <c>$ref</c> only within the document: a schema must never make the server read files or fetch URLs.</summary>
    sealed class LocalReferencesOnly(JsonSchema schema) : JsonReferenceResolver(new JsonSchemaAppender(schema, new DefaultTypeNameGenerator()))
    {
        public override Task<NJsonSchema.References.IJsonReference> ResolveFileReferenceAsync(string filePath, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("A $ref may only point inside the schema (#/...); Keel reads no files.");

        public override Task<NJsonSchema.References.IJsonReference> ResolveUrlReferenceAsync(string url, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("A $ref may only point inside the schema (#/...); Keel fetches no URLs.");
    }
}
