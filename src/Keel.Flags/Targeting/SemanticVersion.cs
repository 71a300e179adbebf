// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Flags.JsonLogic;

namespace Keel.Flags.Targeting;

/// <summary>
/// A semantic version as flagd's <c>sem_ver</c> reads it (the rules of Go's golang.org/x/mod/semver): an optional <c>v</c>
/// or <c>V</c>, then <c>MAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]</c>, where a missing minor or patch is 0 but only
/// without a prerelease or build, numbers have no leading zeros, and build metadata never affects order.
/// </summary>
public sealed class SemanticVersion
{
    readonly string _major;
    readonly string _minor;
    readonly string _patch;
    readonly string[] _prerelease;

    SemanticVersion(string major, string minor, string patch, string[] prerelease)
    {
        _major = major;
        _minor = minor;
        _patch = patch;
        _prerelease = prerelease;
    }

    /// <summary>Reads a version; <see langword="null"/> when the text is not one.</summary>
    public static SemanticVersion? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.AsSpan();
        if (s.Length > 0 && s[0] is 'v' or 'V')
        {
            s = s[1..];
        }

        if (!TakeNumber(ref s, out var major))
        {
            return null;
        }

        if (s.IsEmpty)
        {
            return new SemanticVersion(major, "0", "0", []);
        }

        if (s[0] != '.' || !TakeNumber(ref s, out var minor, skip: 1))
        {
            return null;
        }

        if (s.IsEmpty)
        {
            return new SemanticVersion(major, minor, "0", []);
        }

        if (s[0] != '.' || !TakeNumber(ref s, out var patch, skip: 1))
        {
            return null;
        }

        string[] prerelease = [];
        if (s.Length > 0 && s[0] == '-')
        {
            var end = s.IndexOf('+');
            var part = (end < 0 ? s[1..] : s[1..end]).ToString();
            prerelease = part.Split('.');
            if (!prerelease.All(IsPrereleaseIdentifier))
            {
                return null;
            }

            s = end < 0 ? [] : s[end..];
        }

        if (s.Length > 0 && s[0] == '+')
        {
            if (!s[1..].ToString().Split('.').All(id => id.Length > 0 && id.All(IsIdentifierChar)))
            {
                return null;
            }

            s = [];
        }

        return s.IsEmpty ? new SemanticVersion(major, minor, patch, prerelease) : null;
    }

    /// <summary>Evaluates <c>sem_ver</c>'s arguments <c>[version, operator, version]</c>; null when they are not valid.</summary>
    public static LogicValue Evaluate(ReadOnlySpan<LogicValue> arguments)
    {
        if (arguments.Length != 3 || arguments[1].Kind != LogicKind.String
            || Read(arguments[0]) is not { } left || Read(arguments[2]) is not { } right)
        {
            return LogicValue.Null;
        }

        return arguments[1].String switch
        {
            "=" => LogicValue.From(left.CompareTo(right) == 0),
            "!=" => LogicValue.From(left.CompareTo(right) != 0),
            "<" => LogicValue.From(left.CompareTo(right) < 0),
            "<=" => LogicValue.From(left.CompareTo(right) <= 0),
            ">" => LogicValue.From(left.CompareTo(right) > 0),
            ">=" => LogicValue.From(left.CompareTo(right) >= 0),
            "^" => LogicValue.From(left._major == right._major),
            "~" => LogicValue.From(left._major == right._major && left._minor == right._minor),
            _ => LogicValue.Null,
        };
    }

    /// <summary>Orders versions by precedence: below 0 when this one is lower, 0 when they are equal, above 0 when it is higher.</summary>
    public int CompareTo(SemanticVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var c = CompareNumbers(_major, other._major);
        c = c != 0 ? c : CompareNumbers(_minor, other._minor);
        c = c != 0 ? c : CompareNumbers(_patch, other._patch);
        if (c != 0)
        {
            return c;
        }

        // A version without a prerelease is above every prerelease of it.
        if (_prerelease.Length == 0 || other._prerelease.Length == 0)
        {
            return other._prerelease.Length == 0 ? (_prerelease.Length == 0 ? 0 : -1) : 1;
        }

        for (var i = 0; i < Math.Min(_prerelease.Length, other._prerelease.Length); i++)
        {
            c = ComparePrerelease(_prerelease[i], other._prerelease[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return _prerelease.Length.CompareTo(other._prerelease.Length);
    }

    /// <summary>
    /// A <c>sem_ver</c> operand as a version. A number is read as Go prints it (<c>1.2</c>, <c>2</c>; from a million on or below
    /// 0.0001 Go prints an exponent, which is no version); anything but a string or a number is no version.
    /// </summary>
    static SemanticVersion? Read(LogicValue value)
    {
        switch (value.Kind)
        {
            case LogicKind.String:
                return Parse(value.String!);
            case LogicKind.Number:
                var n = Math.Abs(value.Number);
                return n != 0 && (n >= 1e6 || n < 1e-4) ? null : Parse(LogicSemantics.FormatNumber(value.Number));
            default:
                return null;
        }
    }

    static bool TakeNumber(ref ReadOnlySpan<char> s, out string number, int skip = 0)
    {
        s = s[skip..];
        var length = 0;
        while (length < s.Length && char.IsAsciiDigit(s[length]))
        {
            length++;
        }

        number = s[..length].ToString();
        s = s[length..];
        return length > 0 && (length == 1 || number[0] != '0');
    }

    static bool IsPrereleaseIdentifier(string id) =>
        id.Length > 0 && id.All(IsIdentifierChar) && !(id.All(char.IsAsciiDigit) && id.Length > 1 && id[0] == '0');

    static bool IsIdentifierChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '-';

    static int CompareNumbers(string a, string b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);

    static int ComparePrerelease(string a, string b)
    {
        var aNumeric = a.All(char.IsAsciiDigit);
        var bNumeric = b.All(char.IsAsciiDigit);
        return (aNumeric, bNumeric) switch
        {
            (true, true) => CompareNumbers(a, b),
            (true, false) => -1,
            (false, true) => 1,
            _ => Math.Sign(string.CompareOrdinal(a, b)),
        };
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{_major}.{_minor}.{_patch}{(_prerelease.Length > 0 ? "-" + string.Join('.', _prerelease) : "")}");
}
