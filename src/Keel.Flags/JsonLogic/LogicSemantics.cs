// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;

namespace Keel.Flags.JsonLogic;

/// <summary>
/// JavaScript's conversions and comparisons, which JsonLogic's operators are defined by (the reference implementation is
/// json-logic-js): truthiness, <c>ToNumber</c>, <c>ToString</c>, <c>parseFloat</c>, <c>==</c>, <c>===</c> and <c>&lt;</c>.
/// </summary>
public static class LogicSemantics
{
    /// <summary>JsonLogic's truthiness: JavaScript's, except that an empty array is false.</summary>
    public static bool IsTruthy(LogicValue value) => value.Kind switch
    {
        LogicKind.Null => false,
        LogicKind.Boolean => value.Boolean,
        LogicKind.Number => value.Number != 0 && !double.IsNaN(value.Number),
        LogicKind.String => value.String!.Length > 0,
        LogicKind.Array => value.Items.Length > 0,
        _ => true,
    };

    /// <summary>JavaScript's <c>Number(value)</c>.</summary>
    public static double ToNumber(LogicValue value) => value.Kind switch
    {
        LogicKind.Null => 0,
        LogicKind.Boolean => value.Boolean ? 1 : 0,
        LogicKind.Number => value.Number,
        LogicKind.String => StringToNumber(value.String!),
        LogicKind.Array => StringToNumber(ToText(value)),
        _ => double.NaN,
    };

    /// <summary>JavaScript's <c>String(value)</c>; null is <c>"null"</c>.</summary>
    public static string ToText(LogicValue value) => value.Kind switch
    {
        LogicKind.Null => "null",
        LogicKind.Boolean => value.Boolean ? "true" : "false",
        LogicKind.Number => FormatNumber(value.Number),
        LogicKind.String => value.String!,
        LogicKind.Array => JoinItems(value.Items),
        _ => "[object Object]",
    };

    /// <summary>JavaScript's <c>parseFloat(value)</c>: the longest leading decimal number of the text, else NaN.</summary>
    public static double ParseFloat(LogicValue value)
    {
        if (value.Kind == LogicKind.Number)
        {
            return value.Number;
        }

        var text = ToText(value).AsSpan().TrimStart();
        var sign = 1.0;
        var start = 0;
        if (text.Length > 0 && text[0] is '+' or '-')
        {
            sign = text[0] == '-' ? -1 : 1;
            start = 1;
        }

        if (text[start..].StartsWith("Infinity", StringComparison.Ordinal))
        {
            return sign * double.PositiveInfinity;
        }

        var end = start;
        var digits = 0;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
            digits++;
        }

        if (end < text.Length && text[end] == '.')
        {
            end++;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
                digits++;
            }
        }

        if (digits == 0)
        {
            return double.NaN;
        }

        if (end < text.Length && text[end] is 'e' or 'E')
        {
            var exponent = end + 1;
            if (exponent < text.Length && text[exponent] is '+' or '-')
            {
                exponent++;
            }

            if (exponent < text.Length && char.IsAsciiDigit(text[exponent]))
            {
                end = exponent;
                while (end < text.Length && char.IsAsciiDigit(text[end]))
                {
                    end++;
                }
            }
        }

        return double.Parse(text[..end], NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>JavaScript's <c>a === b</c>: the same type and value; arrays and objects only when they are the same one.</summary>
    public static bool StrictEquals(LogicValue a, LogicValue b)
    {
        if (a.Kind != b.Kind)
        {
            return false;
        }

        return a.Kind switch
        {
            LogicKind.Null => true,
            LogicKind.Boolean => a.Boolean == b.Boolean,
            LogicKind.Number => a.Number == b.Number,
            LogicKind.String => string.Equals(a.String, b.String, StringComparison.Ordinal),
            LogicKind.Array => ReferenceEquals(a.ArrayOrNull, b.ArrayOrNull),
            _ => ReferenceEquals(a.Object, b.Object),
        };
    }

    /// <summary>JavaScript's <c>a == b</c>, with its conversions.</summary>
    public static bool LooseEquals(LogicValue a, LogicValue b)
    {
        while (true)
        {
            if (a.Kind == b.Kind)
            {
                return StrictEquals(a, b);
            }

            if (a.IsNull || b.IsNull)
            {
                return false;
            }

            switch (a.Kind, b.Kind)
            {
                case (LogicKind.Number, LogicKind.String):
                    return a.Number == StringToNumber(b.String!);
                case (LogicKind.String, LogicKind.Number):
                    return StringToNumber(a.String!) == b.Number;
                case (LogicKind.Boolean, _):
                    a = LogicValue.From(a.Boolean ? 1 : 0);
                    continue;
                case (_, LogicKind.Boolean):
                    b = LogicValue.From(b.Boolean ? 1 : 0);
                    continue;
                case (LogicKind.Array or LogicKind.Object, LogicKind.Number or LogicKind.String):
                    a = LogicValue.From(ToText(a));
                    continue;
                case (LogicKind.Number or LogicKind.String, LogicKind.Array or LogicKind.Object):
                    b = LogicValue.From(ToText(b));
                    continue;
                default:
                    return false;
            }
        }
    }

    /// <summary>
    /// JavaScript's relational comparison: texts by UTF-16 code units when both sides are (or convert to) strings, numbers
    /// otherwise. <see langword="null"/> when either side is NaN, where every comparison is false.
    /// </summary>
    public static int? Compare(LogicValue a, LogicValue b)
    {
        if (a.Kind is LogicKind.Array or LogicKind.Object)
        {
            a = LogicValue.From(ToText(a));
        }

        if (b.Kind is LogicKind.Array or LogicKind.Object)
        {
            b = LogicValue.From(ToText(b));
        }

        if (a.Kind == LogicKind.String && b.Kind == LogicKind.String)
        {
            return Math.Sign(string.CompareOrdinal(a.String, b.String));
        }

        var x = ToNumber(a);
        var y = ToNumber(b);
        return double.IsNaN(x) || double.IsNaN(y) ? null : x.CompareTo(y);
    }

    /// <summary>JavaScript's <c>Number.prototype.toString()</c>: the shortest text that reads back as the same double.</summary>
    public static string FormatNumber(double number)
    {
        if (double.IsNaN(number))
        {
            return "NaN";
        }

        if (double.IsInfinity(number))
        {
            return number > 0 ? "Infinity" : "-Infinity";
        }

        if (number == 0)
        {
            return "0";
        }

        // "R" gives the shortest digits that read back as the same double, which are the digits JavaScript prints.
        var (digits, exponent) = Decompose(Math.Abs(number).ToString("R", CultureInfo.InvariantCulture));
        var text = new StringBuilder(number < 0 ? "-" : "");
        var k = digits.Length;
        var n = exponent + 1;
        if (k <= n && n <= 21)
        {
            text.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            text.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            text.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            text.Append(digits[0]);
            if (k > 1)
            {
                text.Append('.').Append(digits, 1, k - 1);
            }

            text.Append('e').Append(n - 1 >= 0 ? "+" : "-").Append(Math.Abs(n - 1).ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>The significant digits of a "R"-formatted number (no leading or trailing zeros), and the decimal exponent of the first.</summary>
    static (string Digits, int Exponent) Decompose(string roundTrip)
    {
        var e = roundTrip.IndexOfAny(['E', 'e']);
        var exponent = e < 0 ? 0 : int.Parse(roundTrip.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var mantissa = e < 0 ? roundTrip : roundTrip[..e];
        var point = mantissa.IndexOf('.');
        var integerDigits = point < 0 ? mantissa.Length : point;
        var all = mantissa.Replace(".", "", StringComparison.Ordinal);
        var leadingZeros = all.Length - all.TrimStart('0').Length;
        var digits = all.Trim('0');
        return (digits.Length == 0 ? "0" : digits, integerDigits - 1 + exponent - leadingZeros);
    }

    static string JoinItems(ReadOnlySpan<LogicValue> items)
    {
        // Rules can build arrays nested without bound (reduce); an exception is the caller's to handle, a stack overflow is not.
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        var text = new StringBuilder();
        for (var i = 0; i < items.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            if (!items[i].IsNull)
            {
                text.Append(ToText(items[i]));
            }
        }

        return text.ToString();
    }

    /// <summary>JavaScript's <c>Number(text)</c>: whitespace trimmed, empty is 0, hex/octal/binary literals, else NaN.</summary>
    static double StringToNumber(string text)
    {
        var s = text.AsSpan().Trim();
        if (s.Length == 0)
        {
            return 0;
        }

        if (s.Length > 2 && s[0] == '0' && s[1] is 'x' or 'X' or 'o' or 'O' or 'b' or 'B')
        {
            var radix = s[1] is 'x' or 'X' ? 16 : s[1] is 'o' or 'O' ? 8 : 2;
            double result = 0;
            foreach (var c in s[2..])
            {
                var digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetter(c) ? char.ToLowerInvariant(c) - 'a' + 10 : 99;
                if (digit >= radix)
                {
                    return double.NaN;
                }

                result = (result * radix) + digit;
            }

            return result;
        }

        switch (s)
        {
            case "Infinity" or "+Infinity":
                return double.PositiveInfinity;
            case "-Infinity":
                return double.NegativeInfinity;
            default:
                break;
        }

        // .NET also reads "NaN" and "∞", which JavaScript reads as NaN: the first is NaN either way, the second is refused.
        foreach (var c in s)
        {
            if (!(char.IsAsciiDigit(c) || c is '.' or 'e' or 'E' or '+' or '-'))
            {
                return double.NaN;
            }
        }

        return double.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var number)
            ? number
            : double.NaN;
    }
}
