// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;
using System.Text.Json;
using Keel.Core;
using Keel.Core.Configs;

namespace Keel.Server.Api;

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
        var raw = body.ConfigValue;
        if (raw.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            var missing = raw.ValueKind == JsonValueKind.Undefined ? $"{ConfigValues.ValueField} is required." : $"{ConfigValues.ValueField} must not be null.";
            throw new KeelException(KeelError.MalformedRequest, missing, [new FieldError(ConfigValues.ValueField, missing)]);
        }

        List<FieldError> errors = [];
        var type = ConfigValueType.String;
        var typeKnown = body.ValueType is null || ConfigValueTypes.TryParse(body.ValueType, out type);
        if (!typeKnown)
        {
            errors.Add(new FieldError(ValueTypeField, $"{ValueTypeField} must be one of {string.Join(", ", ConfigValueTypes.WireNames)}."));
        }

        CheckDescription(body.ChangeDescription, limits, errors);

        var text = raw.ValueKind switch
        {
            JsonValueKind.String => DecodeString(raw, errors),
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
                    ConfigValues.ValueField,
                    $"{ConfigValues.ValueField} must be a JSON string for {ValueTypeField} '{type.ToWireName()}'; only json takes any JSON value, number a number, boolean true or false."));
            }
        }
        else
        {
            EnsureWithinLimit(text, limits);
            if (typeKnown && !ConfigValues.IsValid(type, text, out var error))
            {
                errors.Add(new FieldError(ConfigValues.ValueField, error));
            }
        }

        ThrowIfAny(errors);
        return (text!, type);
    }

    static string? DecodeString(JsonElement raw, List<FieldError> errors)
    {
        try
        {
            return raw.GetString();
        }
        catch (InvalidOperationException)
        {
            errors.Add(new FieldError(ConfigValues.ValueField, $"{ConfigValues.ValueField} holds an unpaired surrogate."));
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

    static void CheckDescription(string? description, LimitsOptions limits, List<FieldError> errors)
    {
        if (description is not null && description.Length > limits.MaxChangeDescriptionLength)
        {
            errors.Add(new FieldError(DescriptionField, $"{DescriptionField} must be at most {limits.MaxChangeDescriptionLength} characters."));
        }
    }

    static void EnsureWithinLimit(string value, LimitsOptions limits)
    {
        // A UTF-8 character takes at most 3 bytes per UTF-16 unit; the exact count is needed only near the limit.
        if ((long)value.Length * 3 > limits.MaxValueBytes && Encoding.UTF8.GetByteCount(value) > limits.MaxValueBytes)
        {
            throw new KeelException(
                KeelError.PayloadTooLarge,
                $"{ConfigValues.ValueField} is larger than {limits.MaxValueBytes} bytes (Keel:Limits:MaxValueBytes).",
                [new FieldError(ConfigValues.ValueField, $"{ConfigValues.ValueField} must be at most {limits.MaxValueBytes} bytes in UTF-8.")]);
        }
    }

    static void ThrowIfAny(List<FieldError> errors)
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
