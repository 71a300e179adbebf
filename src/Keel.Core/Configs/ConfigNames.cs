// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Keel.Core.Configs;

/// <summary>
/// The naming rules for services, environments and keys.
/// </summary>
/// <remarks>
/// Service names and environments are 1–100 characters of <c>[a-z0-9._-]</c> starting with a letter or digit, so they are safe in
/// paths, file names and metric labels everywhere. A key is 1–500 printable characters (counted as Unicode scalar values) without
/// <c>/</c>, whitespace, control or format characters, unassigned code points or noncharacters; it must also not be <c>.</c> or
/// <c>..</c>, which no HTTP path can address, nor <c>export</c>, whose path is the export of its environment. A write must also
/// name its key in Unicode Normalization Form C (<see cref="IsWritableKey"/>), so that no two keys look alike by being two
/// spellings of the same text; a key stored before that rule is still read and deleted under its own spelling.
/// </remarks>
public static class ConfigNames
{
    /// <summary>The most characters a service name or environment may have.</summary>
    public const int MaxNameLength = 100;

    /// <summary>The most characters (Unicode scalar values) a key may have.</summary>
    public const int MaxKeyLength = 500;

    /// <summary>Field name of the service name on the wire.</summary>
    public const string ServiceNameField = "service_name";

    /// <summary>Field name of the environment on the wire.</summary>
    public const string EnvironmentField = "environment";

    /// <summary>Field name of the key on the wire.</summary>
    public const string KeyField = "config_key";

    /// <summary>Checks a service name.</summary>
    public static bool IsValidServiceName(string? name, [NotNullWhen(false)] out string? error)
    {
        if (!IsValidName(ServiceNameField, name, out error))
        {
            return false;
        }

        if (name == ReservedServiceName)
        {
            error = $"{ServiceNameField} '{ReservedServiceName}' is reserved: /api/v1/config/{ReservedServiceName}/ addresses webhook subscriptions.";
            return false;
        }

        return true;
    }

    /// <summary>The one key Keel keeps for itself, because the export route would shadow its GET.</summary>
    public const string ReservedKey = "export";

    /// <summary>The one service name Keel keeps for itself, because the webhook subscription routes would shadow its keys.</summary>
    public const string ReservedServiceName = "subscriptions";

    /// <summary>Checks an environment name.</summary>
    public static bool IsValidEnvironment(string? name, [NotNullWhen(false)] out string? error) =>
        IsValidName(EnvironmentField, name, out error);

    /// <summary>Checks a key.</summary>
    public static bool IsValidKey(string? key, [NotNullWhen(false)] out string? error)
    {
        if (string.IsNullOrEmpty(key))
        {
            error = $"{KeyField} must not be empty.";
            return false;
        }

        if (key is "." or "..")
        {
            error = $"{KeyField} must not be '.' or '..': no HTTP path can address them.";
            return false;
        }

        if (key == ReservedKey)
        {
            error = $"{KeyField} '{ReservedKey}' is reserved: GET /api/v1/config/{{service}}/{{environment}}/{ReservedKey} exports the environment.";
            return false;
        }

        var length = 0;
        var index = 0;
        while (index < key.Length)
        {
            if (Rune.DecodeFromUtf16(key.AsSpan(index), out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                error = $"{KeyField} holds an unpaired surrogate at position {index}.";
                return false;
            }

            if (!IsPrintableKeyRune(rune))
            {
                error = $"{KeyField} must not contain {Describe(rune)} (position {index}).";
                return false;
            }

            index += consumed;
            if (++length > MaxKeyLength)
            {
                error = $"{KeyField} must be at most {MaxKeyLength} characters.";
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>
    /// Checks a key that a write names: a valid key (<see cref="IsValidKey"/>) in Unicode Normalization Form C (NFC). Keys are
    /// compared as they are spelled, so <c>é</c> and <c>e</c> followed by U+0301 would be two keys that look the same; refusing
    /// the second, rather than normalizing it, keeps every key stored exactly as its writer spelled it.
    /// </summary>
    public static bool IsWritableKey(string? key, [NotNullWhen(false)] out string? error)
    {
        if (!IsValidKey(key, out error))
        {
            return false;
        }

        var change = UnicodeNfc.FirstChange(key);
        if (change >= 0)
        {
            error = $"{KeyField} is not in Unicode Normalization Form C (NFC) (it changes at position {change}), so it would look like another spelling of the same key; normalize it to NFC and send it again.";
            return false;
        }

        return true;
    }

    /// <summary>Checks every part of <paramref name="id"/> and throws listing each one that is invalid.</summary>
    /// <exception cref="KeelException">A part is invalid; <see cref="KeelException.Error"/> is <see cref="KeelError.InvalidName"/>.</exception>
    public static void Validate(ConfigId id) => Validate(id, write: false);

    /// <summary>
    /// Checks every part of <paramref name="id"/> for a write, which needs its key in NFC (<see cref="IsWritableKey"/>), and throws
    /// listing each one that is invalid.
    /// </summary>
    /// <exception cref="KeelException">A part is invalid; <see cref="KeelException.Error"/> is <see cref="KeelError.InvalidName"/>.</exception>
    public static void ValidateForWrite(ConfigId id) => Validate(id, write: true);

    static void Validate(ConfigId id, bool write)
    {
        var serviceOk = IsValidServiceName(id.ServiceName, out var serviceError);
        var environmentOk = IsValidEnvironment(id.Environment, out var environmentError);
        string? keyError;
        var keyOk = write ? IsWritableKey(id.Key, out keyError) : IsValidKey(id.Key, out keyError);
        if (serviceOk && environmentOk && keyOk)
        {
            return;
        }

        List<FieldError> errors = [];
        AddIfInvalid(errors, ServiceNameField, serviceError);
        AddIfInvalid(errors, EnvironmentField, environmentError);
        AddIfInvalid(errors, KeyField, keyError);
        throw InvalidName(errors);
    }

    /// <summary>Checks a service name and environment and throws listing each one that is invalid.</summary>
    /// <exception cref="KeelException">A name is invalid; <see cref="KeelException.Error"/> is <see cref="KeelError.InvalidName"/>.</exception>
    public static void Validate(string serviceName, string environment)
    {
        var serviceOk = IsValidServiceName(serviceName, out var serviceError);
        var environmentOk = IsValidEnvironment(environment, out var environmentError);
        if (serviceOk && environmentOk)
        {
            return;
        }

        List<FieldError> errors = [];
        AddIfInvalid(errors, ServiceNameField, serviceError);
        AddIfInvalid(errors, EnvironmentField, environmentError);
        throw InvalidName(errors);
    }

    /// <summary>Adds an error to <paramref name="errors"/> for each of a service name and an environment that is invalid.</summary>
    public static void AddErrors(List<FieldError> errors, string? serviceName, string? environment)
    {
        ArgumentNullException.ThrowIfNull(errors);
        IsValidServiceName(serviceName, out var serviceError);
        AddIfInvalid(errors, ServiceNameField, serviceError);
        IsValidEnvironment(environment, out var environmentError);
        AddIfInvalid(errors, EnvironmentField, environmentError);
    }

    /// <summary>Builds the exception for one or more invalid names, with the first error as its message.</summary>
    public static KeelException InvalidName(IReadOnlyList<FieldError> errors) =>
        new(KeelError.InvalidName, errors.Count == 1 ? errors[0].Message : $"{errors.Count} names are invalid.", errors);

    static void AddIfInvalid(List<FieldError> errors, string field, string? error)
    {
        if (error is not null)
        {
            errors.Add(new FieldError(field, error));
        }
    }

    static bool IsValidName(string field, string? name, [NotNullWhen(false)] out string? error)
    {
        if (string.IsNullOrEmpty(name))
        {
            error = $"{field} must not be empty.";
            return false;
        }

        if (name.Length > MaxNameLength)
        {
            error = $"{field} must be at most {MaxNameLength} characters.";
            return false;
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var ok = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || (i > 0 && c is '.' or '_' or '-');
            if (!ok)
            {
                error = i == 0 && c is '.' or '_' or '-'
                    ? $"{field} must start with a lower-case letter or a digit."
                    : $"{field} may only contain a-z, 0-9, '.', '_' and '-'; found {Describe(new Rune(char.IsSurrogate(c) ? '?' : c))} at position {i}.";
                return false;
            }
        }

        error = null;
        return true;
    }

    static bool IsPrintableKeyRune(Rune rune)
    {
        if (rune.Value == '/' || Rune.IsWhiteSpace(rune))
        {
            return false;
        }

        // Format characters (zero-width spaces, bidirectional overrides) are invisible and make two keys look alike; unassigned
        // code points and noncharacters (U+FFFE) have no glyph at all.
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.SpaceSeparator
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.OtherNotAssigned => false,
            _ => true,
        };
    }

    static string Describe(Rune rune) => rune.Value switch
    {
        '/' => "'/'",
        _ when Rune.IsControl(rune) || Rune.IsWhiteSpace(rune)
            || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned =>
            string.Create(CultureInfo.InvariantCulture, $"U+{rune.Value:X4}"),
        _ => $"'{rune}'",
    };
}
