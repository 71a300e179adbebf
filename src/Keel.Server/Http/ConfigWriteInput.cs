// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;
using System.Text.Json;
using Keel.Core;
using Keel.Core.Configs;
using Keel.Server.Config;

namespace Keel.Server.Http;

/// <summary>
/// Checks the fields of a write request and gathers every problem into one answer: 400 for missing fields, 413 for a value over
/// the limit, 422 for values and settings that do not hold.
/// </summary>
static class ConfigWriteInput
{
    const string ValueTypeField = "value_type";
    const string DescriptionField = "change_description";

    /// <summary>The value as text and its type, from a PUT body.</summary>
    /// <exception cref="KeelException">The body is incomplete (400), the value too large (413), or invalid (422).</exception>
    public static (string Value, ConfigValueType Type) ReadValue(PutConfigRequest body, LimitsOptions limits)
    {
        EnsurePresent(body.ConfigValue, ConfigValues.ValueField);
        List<FieldError> errors = [];
        var value = ReadValue(body.ConfigValue, body.ValueType, limits, errors, "");
        CheckDescription(body.ChangeDescription, limits, errors);
        ThrowIfAny(errors);
        return value!.Value;
    }

    /// <summary>Adds the error of a required request field that is absent.</summary>
    public static void Require(List<FieldError> missing, object? value, string field)
    {
        if (value is null)
        {
            missing.Add(new FieldError(field, $"{field} is required."));
        }
    }

    /// <summary>Throws the 400 of the required fields a request lacks, all of them at once.</summary>
    public static void ThrowIfMissing(List<FieldError> missing)
    {
        if (missing.Count > 0)
        {
            throw new KeelException(KeelError.MalformedRequest, missing.Count == 1 ? missing[0].Message : "The request lacks required fields; see errors.", missing);
        }
    }

    /// <summary>Throws the 400 of a value that is absent or null.</summary>
    public static void EnsurePresent(JsonElement raw, string field)
    {
        if (raw.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            var missing = raw.ValueKind == JsonValueKind.Undefined ? $"{field} is required." : $"{field} must not be null.";
            throw new KeelException(KeelError.MalformedRequest, missing, [new FieldError(field, missing)]);
        }
    }

    /// <summary>
    /// Reads one value and its type, adding what is wrong to <paramref name="errors"/> under field names that start with
    /// <paramref name="prefix"/> (such as <c>configs[3].</c>); <see langword="null"/> when it is invalid.
    /// </summary>
    /// <exception cref="KeelException">The value is larger than the limit (413).</exception>
    public static (string Value, ConfigValueType Type)? ReadValue(
        JsonElement raw, string? valueType, LimitsOptions limits, List<FieldError> errors, string prefix)
    {
        var count = errors.Count;
        var type = ConfigValueType.String;
        var typeKnown = valueType is null || ConfigValueTypes.TryParse(valueType, out type);
        if (!typeKnown)
        {
            errors.Add(new FieldError(prefix + ValueTypeField, $"{ValueTypeField} must be one of {string.Join(", ", ConfigValueTypes.WireNames)}."));
        }

        var text = raw.ValueKind switch
        {
            JsonValueKind.String => DecodeString(raw, errors, prefix),
            JsonValueKind.Number when type is ConfigValueType.Number or ConfigValueType.Json => raw.GetRawText(),
            JsonValueKind.True or JsonValueKind.False when type is ConfigValueType.Boolean or ConfigValueType.Json => raw.GetRawText(),
            JsonValueKind.Object or JsonValueKind.Array when type is ConfigValueType.Json => raw.GetRawText(),
            _ => null,
        };

        if (text is null)
        {
            if (typeKnown && raw.ValueKind != JsonValueKind.String)
            {
                errors.Add(new FieldError(
                    prefix + ConfigValues.ValueField,
                    $"{ConfigValues.ValueField} must be a JSON string for {ValueTypeField} '{type.ToWireName()}'; only json takes any JSON value, number a number, boolean true or false."));
            }
        }
        else
        {
            EnsureWithinLimit(text, limits, prefix);
            if (typeKnown && !ConfigValues.IsValid(type, text, out var error))
            {
                errors.Add(new FieldError(prefix + ConfigValues.ValueField, error));
            }
        }

        return errors.Count == count ? (text!, type) : null;
    }

    static string? DecodeString(JsonElement raw, List<FieldError> errors, string prefix)
    {
        try
        {
            return raw.GetString();
        }
        catch (InvalidOperationException)
        {
            errors.Add(new FieldError(prefix + ConfigValues.ValueField, $"{ConfigValues.ValueField} holds an unpaired surrogate."));
            return null;
        }
    }

    /// <summary>Checks a change description on its own, for requests that carry nothing else to check.</summary>
    /// <exception cref="KeelException">The description is too long (422).</exception>
    public static void CheckDescription(string? description, LimitsOptions limits)
    {
        List<FieldError> errors = [];
        CheckDescription(description, limits, errors);
        ThrowIfAny(errors);
    }

    public static void CheckDescription(string? description, LimitsOptions limits, List<FieldError> errors)
    {
        if (description is not null && description.Length > limits.MaxChangeDescriptionLength)
        {
            errors.Add(new FieldError(DescriptionField, $"{DescriptionField} must be at most {limits.MaxChangeDescriptionLength} characters."));
        }
    }

    static void EnsureWithinLimit(string value, LimitsOptions limits, string prefix)
    {
        // A UTF-8 character takes at most 3 bytes per UTF-16 unit; the exact count is needed only near the limit.
        if ((long)value.Length * 3 > limits.MaxValueBytes && Encoding.UTF8.GetByteCount(value) > limits.MaxValueBytes)
        {
            throw new KeelException(
                KeelError.PayloadTooLarge,
                $"{ConfigValues.ValueField} is larger than {limits.MaxValueBytes} bytes (Keel:Limits:MaxValueBytes).",
                [new FieldError(prefix + ConfigValues.ValueField, $"{ConfigValues.ValueField} must be at most {limits.MaxValueBytes} bytes in UTF-8.")]);
        }
    }

    public static void ThrowIfAny(List<FieldError> errors)
    {
        if (errors.Count > 0)
        {
            throw new KeelException(
                KeelError.InvalidValue,
                errors.Count == 1 ? errors[0].Message : $"The request has {errors.Count} invalid fields; see errors.",
                errors);
        }
    }
}
