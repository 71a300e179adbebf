// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Text.Json;
using Keel.Flags.JsonLogic;
using Keel.Flags.Targeting;

namespace Keel.Flags;

/// <summary>
/// Reads flag definitions in flagd's format: a whole flagd file (<c>flags</c> as an object or an array, shared rules under
/// <c>$evaluators</c> used through <c>{"$ref": "name"}</c>, flag-set <c>metadata</c>), or one flag. Every problem is
/// reported at once, by JSON path, and a definition that has any is refused whole: a state other than ENABLED or DISABLED,
/// no variants, variants of mixed types (or arrays, or null), a default variant that is not one of them, targeting that is
/// not JsonLogic with flagd's operations, a <c>$ref</c> to no shared rule, metadata that is not strings, numbers and
/// booleans, a key that breaks the caller's <see cref="FlagKeyRule"/>.
/// </summary>
public static class FlagDefinitions
{
    /// <summary>How deeply a stored definition may nest, shared rules put in place: as deep as any JSON value Keel stores.</summary>
    public const int MaxDepth = 64;

    /// <summary>Reads a flagd file.</summary>
    /// <param name="file">The file.</param>
    /// <param name="maxDefinitionBytes">The most UTF-8 bytes one flag's stored definition may take.</param>
    /// <param name="maxTotalBytes">The most UTF-8 bytes all the flags' stored definitions may take together.</param>
    /// <param name="limits">The work one evaluation of a targeting rule may do; <see cref="LogicLimits.Default"/> when <see langword="null"/>.</param>
    /// <param name="keyRule">
    /// The rule every key must keep, such as the naming rules of a store the flags go to; any string when <see langword="null"/>,
    /// as for a file Keel serves, whose keys its store already checked.
    /// </param>
    /// <exception cref="FlagDefinitionException">The file has problems, each one a field error.</exception>
    public static IReadOnlyList<FlagDefinition> ParseFile(
        JsonElement file, int maxDefinitionBytes = int.MaxValue, long maxTotalBytes = long.MaxValue, LogicLimits? limits = null, FlagKeyRule? keyRule = null)
    {
        try
        {
            return ReadFile(file, new Expansion(maxDefinitionBytes, maxTotalBytes), limits ?? LogicLimits.Default, keyRule);
        }
        catch (InvalidOperationException)
        {
            throw NotUnicode();
        }
    }

    static List<FlagDefinition> ReadFile(JsonElement file, Expansion expansion, LogicLimits limits, FlagKeyRule? keyRule)
    {
        var (maxDefinitionBytes, maxTotalBytes) = (expansion.MaxDefinitionBytes, expansion.MaxTotalBytes);
        List<FlagDefinitionError> errors = [];
        if (file.ValueKind != JsonValueKind.Object)
        {
            throw Invalid([new FlagDefinitionError("$", "A flag file is a JSON object with 'flags'.")]);
        }

        var evaluators = ReadEvaluators(file, errors);
        var setMetadata = file.TryGetProperty("metadata", out var m) ? ReadMetadata(m, "$.metadata", errors) : FlagResult.EmptyMetadata;
        List<FlagDefinition> flags = [];
        long totalBytes = 0;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        if (!file.TryGetProperty("flags", out var list) || list.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
        {
            errors.Add(new FlagDefinitionError("$.flags", "'flags' is required: an object of flags by key, or an array of flags that each have a 'key'."));
        }
        else if (list.ValueKind == JsonValueKind.Object)
        {
            foreach (var flag in list.EnumerateObject())
            {
                Add(flag.Name, flag.Value, ChildPath("$.flags", flag.Name));
            }
        }
        else
        {
            var index = 0;
            foreach (var flag in list.EnumerateArray())
            {
                var path = $"$.flags[{index++}]";
                if (flag.ValueKind != JsonValueKind.Object || !flag.TryGetProperty("key", out var key) || key.ValueKind != JsonValueKind.String)
                {
                    errors.Add(new FlagDefinitionError(path + ".key", "Each flag of a 'flags' array has a string 'key'."));
                    continue;
                }

                Add(key.GetString()!, flag, path);
            }
        }

        if (errors.Count > 0)
        {
            throw Invalid(errors);
        }

        return flags;

        void Add(string key, JsonElement definition, string path)
        {
            if (!keys.Add(key))
            {
                errors.Add(new FlagDefinitionError(path, $"Flag '{key}' is defined twice."));
                return;
            }

            if (totalBytes > maxTotalBytes || expansion.IsSpent)
            {
                return;
            }

            if (Read(key, definition, path, evaluators, setMetadata, expansion, limits, keyRule, errors) is { } flag && CheckSize(flag, path, maxDefinitionBytes, errors))
            {
                flags.Add(flag);
                totalBytes += System.Text.Encoding.UTF8.GetByteCount(flag.Json);
                if (totalBytes > maxTotalBytes)
                {
                    errors.Add(new FlagDefinitionError(path, $"The flags' definitions, shared rules put in place, take more than {maxTotalBytes} bytes."));
                }
            }
        }
    }

    /// <summary>Reads one flag's definition, with the shared rules and flag-set metadata it may use.</summary>
    /// <param name="key">The flag's key.</param>
    /// <param name="definition">The definition.</param>
    /// <param name="evaluators">The shared rules it may name with <c>$ref</c>.</param>
    /// <param name="setMetadata">The flag set's metadata, under the flag's own.</param>
    /// <param name="maxDefinitionBytes">The most UTF-8 bytes the stored definition may take.</param>
    /// <param name="limits">The work one evaluation of the targeting rule may do; <see cref="LogicLimits.Default"/> when <see langword="null"/>.</param>
    /// <param name="keyRule">The rule the key must keep; any string when <see langword="null"/>.</param>
    /// <exception cref="FlagDefinitionException">The definition has problems, each one a field error.</exception>
    public static FlagDefinition Parse(
        string key,
        JsonElement definition,
        IReadOnlyDictionary<string, JsonElement>? evaluators = null,
        IReadOnlyDictionary<string, LogicValue>? setMetadata = null,
        int maxDefinitionBytes = int.MaxValue,
        LogicLimits? limits = null,
        FlagKeyRule? keyRule = null)
    {
        List<FlagDefinitionError> errors = [];
        try
        {
            var flag = Read(
                key,
                definition,
                "$",
                evaluators ?? new Dictionary<string, JsonElement>(),
                setMetadata ?? FlagResult.EmptyMetadata,
                new Expansion(maxDefinitionBytes, maxDefinitionBytes),
                limits ?? LogicLimits.Default,
                keyRule,
                errors);
            if (flag is not null)
            {
                CheckSize(flag, "$", maxDefinitionBytes, errors);
            }

            return errors.Count > 0 ? throw Invalid(errors) : flag!;
        }
        catch (InvalidOperationException)
        {
            throw NotUnicode();
        }
    }

    static bool CheckSize(FlagDefinition flag, string path, int maxBytes, List<FlagDefinitionError> errors)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(flag.Json) <= maxBytes)
        {
            return true;
        }

        errors.Add(new FlagDefinitionError(path, $"The definition, shared rules put in place, takes more than {maxBytes} bytes."));
        return false;
    }

    static FlagDefinitionException NotUnicode() => new(
        "The flag definition holds text that is not valid Unicode (such as an unpaired surrogate escape).");

    static FlagDefinition? Read(
        string key,
        JsonElement definition,
        string path,
        IReadOnlyDictionary<string, JsonElement> evaluators,
        IReadOnlyDictionary<string, LogicValue> setMetadata,
        Expansion expansion,
        LogicLimits limits,
        FlagKeyRule? keyRule,
        List<FlagDefinitionError> errors)
    {
        var before = errors.Count;
        if (keyRule is not null && !keyRule(key, out var keyError))
        {
            errors.Add(new FlagDefinitionError(path, "The flag key is not valid: " + keyError));
        }

        if (definition.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FlagDefinitionError(path, "A flag is a JSON object with 'state' and 'variants'."));
            return null;
        }

        var enabled = true;
        if (!definition.TryGetProperty("state", out var state) || state.ValueKind != JsonValueKind.String || state.GetString() is not ("ENABLED" or "DISABLED"))
        {
            errors.Add(new FlagDefinitionError(path + ".state", "'state' is required: \"ENABLED\" or \"DISABLED\"."));
        }
        else
        {
            enabled = state.GetString() == "ENABLED";
        }

        var variants = ReadVariants(definition, path + ".variants", errors);
        string? defaultVariant = null;
        if (definition.TryGetProperty("defaultVariant", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            if (d.ValueKind != JsonValueKind.String)
            {
                errors.Add(new FlagDefinitionError(path + ".defaultVariant", "'defaultVariant' is the name of a variant, or null for the caller's default."));
            }
            else if (d.GetString()!.Length > 0)
            {
                defaultVariant = d.GetString();
                if (variants is not null && !variants.ContainsKey(defaultVariant!))
                {
                    errors.Add(new FlagDefinitionError(path + ".defaultVariant", $"'{defaultVariant}' is not one of the flag's variants."));
                }
            }
        }

        LogicRule? targeting = null;
        string? targetingJson = null;
        if (definition.TryGetProperty("targeting", out var t) && t.ValueKind != JsonValueKind.Null
            && !(t.ValueKind == JsonValueKind.Object && !t.EnumerateObject().Any()))
        {
            (targeting, targetingJson) = Compile(t, path + ".targeting", evaluators, expansion, limits, errors);
        }

        var metadata = setMetadata;
        if (definition.TryGetProperty("metadata", out var m))
        {
            var own = ReadMetadata(m, path + ".metadata", errors);
            metadata = own.Count == 0 ? setMetadata : setMetadata.Where(p => !own.ContainsKey(p.Key)).Concat(own).ToDictionary(StringComparer.Ordinal);
        }

        if (errors.Count > before)
        {
            return null;
        }

        var json = Write(enabled, variants!, defaultVariant, targetingJson, metadata);
        try
        {
            using var stored = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException)
        {
            errors.Add(new FlagDefinitionError(path, $"The definition, shared rules put in place, nests more than {MaxDepth} levels deep."));
            return null;
        }

        return new FlagDefinition(key, enabled, variants!, defaultVariant, targeting, metadata, json);
    }

    static Dictionary<string, LogicValue>? ReadVariants(JsonElement definition, string path, List<FlagDefinitionError> errors)
    {
        if (!definition.TryGetProperty("variants", out var variants) || variants.ValueKind != JsonValueKind.Object || !variants.EnumerateObject().Any())
        {
            errors.Add(new FlagDefinitionError(path, "'variants' is required: an object of at least one variant by name."));
            return null;
        }

        var result = new Dictionary<string, LogicValue>(StringComparer.Ordinal);
        JsonValueKind? kind = null;
        foreach (var variant in variants.EnumerateObject())
        {
            var value = variant.Value;
            var valueKind = value.ValueKind is JsonValueKind.True or JsonValueKind.False ? JsonValueKind.True : value.ValueKind;
            if (valueKind is not (JsonValueKind.True or JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Object))
            {
                errors.Add(new FlagDefinitionError(ChildPath(path, variant.Name), "A variant's value is a boolean, a string, a number or an object."));
                return null;
            }

            if (variant.Name.Length == 0)
            {
                errors.Add(new FlagDefinitionError(ChildPath(path, variant.Name), "A variant's name is not empty."));
                return null;
            }

            if (kind is { } k && k != valueKind)
            {
                errors.Add(new FlagDefinitionError(ChildPath(path, variant.Name), "All variants of a flag are of one type: booleans, strings, numbers or objects."));
                return null;
            }

            kind = valueKind;
            result[variant.Name] = LogicValue.FromJson(value);
        }

        return result;
    }

    /// <summary>The definition as Keel stores and serves it: shared rules put in place and the flag set's metadata merged in.</summary>
    static string Write(bool enabled, Dictionary<string, LogicValue> variants, string? defaultVariant, string? targeting, IReadOnlyDictionary<string, LogicValue> metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();

        // Escaping only what JSON requires keeps the stored text as the author wrote it, and within the size checked.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("state", enabled ? "ENABLED" : "DISABLED");
            writer.WriteStartObject("variants");
            foreach (var (name, value) in variants)
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }

            writer.WriteEndObject();
            if (defaultVariant is null)
            {
                writer.WriteNull("defaultVariant");
            }
            else
            {
                writer.WriteString("defaultVariant", defaultVariant);
            }

            if (targeting is not null)
            {
                writer.WritePropertyName("targeting");
                writer.WriteRawValue(targeting, skipInputValidation: true);
            }

            if (metadata.Count > 0)
            {
                writer.WriteStartObject("metadata");
                foreach (var (name, value) in metadata)
                {
                    writer.WritePropertyName(name);
                    value.WriteTo(writer);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    static (LogicRule? Rule, string? Json) Compile(
        JsonElement targeting, string path, IReadOnlyDictionary<string, JsonElement> evaluators, Expansion expansion, LogicLimits limits, List<FlagDefinitionError> errors)
    {
        if (targeting.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FlagDefinitionError(path, "'targeting' is a JsonLogic rule: an object such as {\"if\": [...]}."));
            return (null, null);
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            var before = errors.Count;
            var within = WriteResolved(targeting, path, evaluators, expansion.BytesLeftForOne, writer, errors);
            writer.Flush();
            expansion.Spend(buffer.WrittenCount);
            if (!within)
            {
                errors.Add(new FlagDefinitionError(path, expansion.IsSpent
                    ? $"The flags' definitions, shared rules put in place, take more than {expansion.MaxTotalBytes} bytes."
                    : $"The targeting rule, shared rules put in place, takes more than {expansion.MaxDefinitionBytes} bytes."));
            }

            if (errors.Count > before)
            {
                return (null, null);
            }
        }

        try
        {
            using var resolved = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = LogicRule.MaxDepth * 2 });
            return (LogicRule.Compile(resolved.RootElement, FlagdOperations.All, limits), System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
        catch (LogicRuleException e)
        {
            errors.Add(new FlagDefinitionError(path + e.Path[1..], e.Message));
            return (null, null);
        }
        catch (JsonException)
        {
            errors.Add(new FlagDefinitionError(path, $"The targeting rule nests more than {LogicRule.MaxDepth} levels deep."));
            return (null, null);
        }
    }

    /// <summary>
    /// Copies a rule, putting each shared rule where <c>{"$ref": "name"}</c> names it (one level: shared rules hold no
    /// references). Stops, returning false, before the copy takes more than <paramref name="maxBytes"/>: a small rule that
    /// names a large shared rule many times would otherwise grow without bound before any size is checked.
    /// </summary>
    static bool WriteResolved(
        JsonElement rule, string path, IReadOnlyDictionary<string, JsonElement> evaluators, long maxBytes, Utf8JsonWriter writer, List<FlagDefinitionError> errors)
    {
        if (writer.BytesCommitted + writer.BytesPending > maxBytes)
        {
            return false;
        }

        switch (rule.ValueKind)
        {
            case JsonValueKind.Object when rule.TryGetProperty("$ref", out var name) && !rule.EnumerateObject().Skip(1).Any():
                if (name.ValueKind == JsonValueKind.String && evaluators.TryGetValue(name.GetString()!, out var shared))
                {
                    // Written whole: the copy outgrows the bound by one shared rule at most, which the file itself held.
                    shared.WriteTo(writer);
                    return writer.BytesCommitted + writer.BytesPending <= maxBytes;
                }

                errors.Add(new FlagDefinitionError(path + ".$ref", $"'{(name.ValueKind == JsonValueKind.String ? name.GetString() : name.GetRawText())}' is not a shared rule of '$evaluators'."));
                writer.WriteNullValue();
                return true;
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in rule.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    if (!WriteResolved(property.Value, ChildPath(path, property.Name), evaluators, maxBytes, writer, errors))
                    {
                        return false;
                    }
                }

                writer.WriteEndObject();
                return true;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                var index = 0;
                foreach (var item in rule.EnumerateArray())
                {
                    if (!WriteResolved(item, $"{path}[{index++}]", evaluators, maxBytes, writer, errors))
                    {
                        return false;
                    }
                }

                writer.WriteEndArray();
                return true;
            default:
                rule.WriteTo(writer);
                return true;
        }
    }

    /// <summary>
    /// How many bytes putting shared rules in place may write: for one flag, and for every flag of a file together, counting
    /// the flags refused for their size too, so that a file of many small flags naming one large shared rule costs no more
    /// than the definitions it may store.
    /// </summary>
    sealed class Expansion(int maxDefinitionBytes, long maxTotalBytes)
    {
        long _left = maxTotalBytes;

        public int MaxDefinitionBytes { get; } = maxDefinitionBytes;

        public long MaxTotalBytes { get; } = maxTotalBytes;

        public bool IsSpent => _left <= 0;

        public long BytesLeftForOne => Math.Min(MaxDefinitionBytes, _left);

        public void Spend(long bytes) => _left -= bytes;
    }

    static Dictionary<string, JsonElement> ReadEvaluators(JsonElement file, List<FlagDefinitionError> errors)
    {
        var evaluators = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (!file.TryGetProperty("$evaluators", out var shared) || shared.ValueKind == JsonValueKind.Null)
        {
            return evaluators;
        }

        if (shared.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FlagDefinitionError("$.$evaluators", "'$evaluators' is an object of shared JsonLogic rules by name."));
            return evaluators;
        }

        foreach (var evaluator in shared.EnumerateObject())
        {
            evaluators[evaluator.Name] = evaluator.Value.Clone();
        }

        return evaluators;
    }

    static Dictionary<string, LogicValue> ReadMetadata(JsonElement metadata, string path, List<FlagDefinitionError> errors)
    {
        var result = new Dictionary<string, LogicValue>(StringComparer.Ordinal);
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FlagDefinitionError(path, "'metadata' is an object of strings, numbers and booleans."));
            return result;
        }

        foreach (var entry in metadata.EnumerateObject())
        {
            if (entry.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
            {
                errors.Add(new FlagDefinitionError(ChildPath(path, entry.Name), "A metadata value is a string, a number or a boolean."));
                continue;
            }

            result[entry.Name] = LogicValue.FromJson(entry.Value);
        }

        return result;
    }

    /// <summary>
    /// The path of member <paramref name="name"/> of the object at <paramref name="path"/>, as every Keel error names a place in
    /// JSON (the server's <c>JsonPaths</c>): dotted when the name is a plain identifier, else bracketed and quoted.
    /// </summary>
    static string ChildPath(string path, string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' or '-') && !char.IsAsciiDigit(name[0]) && name[0] != '-'
            ? path + "." + name
            : path + "['" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "']";

    static FlagDefinitionException Invalid(List<FlagDefinitionError> errors) => new(
        errors.Count == 1 ? "The flag definition is not valid: " + errors[0].Message : $"The flag definition is not valid ({errors.Count} problems).",
        errors);
}
