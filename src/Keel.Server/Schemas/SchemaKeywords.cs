// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Keel.Core;

namespace Keel.Server.Schemas;

/// <summary>
/// Checks that the keywords of a JSON Schema document have the shapes the JSON Schema specification gives them (drafts 4
/// to 2020-12): a <c>type</c> names a JSON type, <c>minLength</c> is a non-negative integer, <c>properties</c> holds schemas,
/// a <c>pattern</c> compiles. NJsonSchema reads such mistakes as "no constraint", so a schema with a typo would accept every
/// value; the check refuses it when it is put instead. Keywords the specification does not define are left alone, as it says.
/// </summary>
static class SchemaKeywords
{
    static readonly HashSet<string> Types = ["null", "boolean", "object", "array", "number", "string", "integer"];

    static readonly HashSet<string> SchemaValued =
    [
        "additionalItems", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else",
        "unevaluatedItems", "unevaluatedProperties", "contentSchema",
    ];

    static readonly HashSet<string> SchemaArrays = ["allOf", "anyOf", "oneOf", "prefixItems"];

    static readonly HashSet<string> SchemaMaps = ["properties", "patternProperties", "definitions", "$defs", "dependentSchemas"];

    static readonly HashSet<string> Counts =
    [
        "maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties", "maxContains", "minContains",
    ];

    static readonly HashSet<string> Strings =
    [
        "$ref", "$id", "id", "$schema", "$anchor", "$comment", "title", "description", "format", "contentEncoding", "contentMediaType",
    ];

    static readonly HashSet<string> Booleans = ["uniqueItems", "readOnly", "writeOnly", "deprecated"];

    /// <summary>Every keyword in <paramref name="schema"/> whose value has the wrong shape, by its JSON path.</summary>
    public static List<FieldError> Check(JsonElement schema)
    {
        List<FieldError> errors = [];
        CheckSchema(schema, "$", errors);
        return errors;
    }

    static void CheckSchema(JsonElement schema, string path, List<FieldError> errors)
    {
        if (schema.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(path, "A schema is an object, or true or false."));
            return;
        }

        foreach (var keyword in schema.EnumerateObject())
        {
            CheckKeyword(keyword.Name, keyword.Value, JsonPaths.Child(path, keyword.Name), errors);
        }
    }

    static void CheckKeyword(string name, JsonElement value, string path, List<FieldError> errors)
    {
        switch (name)
        {
            case "type":
                CheckType(value, path, errors);
                break;
            case "items":
                if (value.ValueKind == JsonValueKind.Array)
                {
                    CheckSchemas(value, path, errors, nonEmpty: false);
                }
                else
                {
                    CheckSchema(value, path, errors);
                }

                break;
            case "required":
                CheckUniqueStrings(value, path, errors, "'required' is an array of property names, each named once.");
                break;
            case "enum" or "examples":
                Expect(value.ValueKind == JsonValueKind.Array, path, $"'{name}' is an array.", errors);
                break;
            case "minimum" or "maximum":
                Expect(value.ValueKind == JsonValueKind.Number, path, $"'{name}' is a number.", errors);
                break;
            case "exclusiveMinimum" or "exclusiveMaximum":
                // A number since draft 6; draft 4's boolean form is still read by NJsonSchema.
                Expect(value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False, path, $"'{name}' is a number.", errors);
                break;
            case "multipleOf":
                Expect(value.ValueKind == JsonValueKind.Number && value.GetDouble() > 0, path, "'multipleOf' is a number greater than 0.", errors);
                break;
            case "pattern":
                CheckPattern(value, path, errors);
                break;
            case "dependencies":
                CheckDependencies(value, path, errors);
                break;
            case "dependentRequired":
                CheckMap(value, path, errors, (v, p) => CheckUniqueStrings(v, p, errors, "Each entry of 'dependentRequired' is an array of property names."));
                break;
            case var _ when SchemaValued.Contains(name):
                CheckSchema(value, path, errors);
                break;
            case var _ when SchemaArrays.Contains(name):
                CheckSchemas(value, path, errors, nonEmpty: name != "prefixItems");
                break;
            case var _ when SchemaMaps.Contains(name):
                CheckMap(value, path, errors, (v, p) => CheckSchema(v, p, errors));
                if (name == "patternProperties" && value.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in value.EnumerateObject())
                    {
                        CheckRegex(property.Name, JsonPaths.Child(path, property.Name), errors);
                    }
                }

                break;
            case var _ when Counts.Contains(name):
                Expect(value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count) && count >= 0, path, $"'{name}' is a non-negative integer.", errors);
                break;
            case var _ when Strings.Contains(name):
                Expect(value.ValueKind == JsonValueKind.String, path, $"'{name}' is a string.", errors);
                break;
            case var _ when Booleans.Contains(name):
                Expect(value.ValueKind is JsonValueKind.True or JsonValueKind.False, path, $"'{name}' is true or false.", errors);
                break;
            default:
                break;
        }
    }

    static void CheckType(JsonElement value, string path, List<FieldError> errors)
    {
        const string Message = "'type' is one of null, boolean, object, array, number, string or integer, or an array of them, each named once.";
        if (value.ValueKind == JsonValueKind.String)
        {
            Expect(Types.Contains(value.GetString()!), path, Message, errors);
            return;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new FieldError(path, Message));
            return;
        }

        var seen = new HashSet<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !Types.Contains(item.GetString()!) || !seen.Add(item.GetString()!))
            {
                errors.Add(new FieldError(path, Message));
                return;
            }
        }
    }

    static void CheckSchemas(JsonElement value, string path, List<FieldError> errors, bool nonEmpty)
    {
        if (value.ValueKind != JsonValueKind.Array || (nonEmpty && value.GetArrayLength() == 0))
        {
            errors.Add(new FieldError(path, nonEmpty ? "This keyword is a non-empty array of schemas." : "This keyword is an array of schemas."));
            return;
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            CheckSchema(item, string.Create(CultureInfo.InvariantCulture, $"{path}[{index++}]"), errors);
        }
    }

    static void CheckMap(JsonElement value, string path, List<FieldError> errors, Action<JsonElement, string> checkEntry)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(path, "This keyword is an object."));
            return;
        }

        foreach (var property in value.EnumerateObject())
        {
            checkEntry(property.Value, JsonPaths.Child(path, property.Name));
        }
    }

    static void CheckDependencies(JsonElement value, string path, List<FieldError> errors) =>
        CheckMap(value, path, errors, (entry, entryPath) =>
        {
            if (entry.ValueKind == JsonValueKind.Array)
            {
                CheckUniqueStrings(entry, entryPath, errors, "Each entry of 'dependencies' is a schema or an array of property names.");
            }
            else
            {
                CheckSchema(entry, entryPath, errors);
            }
        });

    static void CheckUniqueStrings(JsonElement value, string path, List<FieldError> errors, string message)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new FieldError(path, message));
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !seen.Add(item.GetString()!))
            {
                errors.Add(new FieldError(path, message));
                return;
            }
        }
    }

    static void CheckPattern(JsonElement value, string path, List<FieldError> errors)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new FieldError(path, "'pattern' is a string holding a regular expression."));
            return;
        }

        CheckRegex(value.GetString()!, path, errors);
    }

    static void CheckRegex(string pattern, string path, List<FieldError> errors)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            errors.Add(new FieldError(path, "The regular expression does not compile."));
        }
    }

    static void Expect(bool condition, string path, string message, List<FieldError> errors)
    {
        if (!condition)
        {
            errors.Add(new FieldError(path, message));
        }
    }
}
