// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text.Json;

namespace Keel.Flags.JsonLogic;

/// <summary>The JSON type of a <see cref="LogicValue"/>.</summary>
public enum LogicKind : byte
{
    /// <summary>JSON null (and JavaScript's undefined, which JsonLogic does not tell apart from it).</summary>
    Null,

    /// <summary>true or false.</summary>
    Boolean,

    /// <summary>A number, held as a double as JavaScript holds it.</summary>
    Number,

    /// <summary>A string.</summary>
    String,

    /// <summary>An array.</summary>
    Array,

    /// <summary>An object.</summary>
    Object,
}

/// <summary>
/// A JSON value as JsonLogic rules see it: the data a rule reads and the value it returns. A small struct, so that evaluating
/// a rule allocates only for the arrays and strings it builds.
/// </summary>
public readonly struct LogicValue : IEquatable<LogicValue>
{
    readonly object? _reference;
    readonly double _number;

    LogicValue(LogicKind kind, double number, object? reference)
    {
        Kind = kind;
        _number = number;
        _reference = reference;
    }

    /// <summary>JSON null.</summary>
    public static LogicValue Null => default;

    /// <summary>true.</summary>
    public static LogicValue True { get; } = new(LogicKind.Boolean, 1, null);

    /// <summary>false.</summary>
    public static LogicValue False { get; } = new(LogicKind.Boolean, 0, null);

    /// <summary>The empty array.</summary>
    public static LogicValue EmptyArray { get; } = new(LogicKind.Array, 0, Array.Empty<LogicValue>());

    /// <summary>The value's JSON type.</summary>
    public LogicKind Kind { get; }

    /// <summary>Whether the value is null.</summary>
    public bool IsNull => Kind == LogicKind.Null;

    /// <summary>The boolean; false unless <see cref="Kind"/> is <see cref="LogicKind.Boolean"/>.</summary>
    public bool Boolean => Kind == LogicKind.Boolean && _number != 0;

    /// <summary>The number; 0 unless <see cref="Kind"/> is <see cref="LogicKind.Number"/>.</summary>
    public double Number => Kind == LogicKind.Number ? _number : 0;

    /// <summary>The string, or <see langword="null"/> unless <see cref="Kind"/> is <see cref="LogicKind.String"/>.</summary>
    public string? String => _reference as string;

    /// <summary>The items, or empty unless <see cref="Kind"/> is <see cref="LogicKind.Array"/>.</summary>
    public ReadOnlySpan<LogicValue> Items => _reference is LogicValue[] items ? items : [];

    /// <summary>The object, or <see langword="null"/> unless <see cref="Kind"/> is <see cref="LogicKind.Object"/>.</summary>
    public LogicObject? Object => _reference as LogicObject;

    internal LogicValue[]? ArrayOrNull => _reference as LogicValue[];

    /// <summary>A boolean.</summary>
    public static LogicValue From(bool value) => value ? True : False;

    /// <summary>A number.</summary>
    public static LogicValue From(double value) => new(LogicKind.Number, value, null);

    /// <summary>A string; <see langword="null"/> is JSON null.</summary>
    public static LogicValue From(string? value) => value is null ? Null : new(LogicKind.String, 0, value);

    /// <summary>An array that takes ownership of <paramref name="items"/>.</summary>
    public static LogicValue FromArray(LogicValue[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return items.Length == 0 ? EmptyArray : new(LogicKind.Array, 0, items);
    }

    /// <summary>An object.</summary>
    public static LogicValue From(LogicObject value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(LogicKind.Object, 0, value);
    }

    /// <summary>Reads a JSON value.</summary>
    public static LogicValue FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.True => True,
        JsonValueKind.False => False,
        JsonValueKind.Number => From(element.GetDouble()),
        JsonValueKind.String => From(element.GetString()),
        JsonValueKind.Array => FromArray([.. element.EnumerateArray().Select(FromJson)]),
        JsonValueKind.Object => From(LogicObject.FromJson(element)),
        _ => Null,
    };

    /// <summary>Writes the value as JSON; a number that is a whole number is written without a fraction.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (Kind)
        {
            case LogicKind.Boolean:
                writer.WriteBooleanValue(Boolean);
                break;
            case LogicKind.Number when double.IsFinite(_number):
                if (_number == Math.Floor(_number) && Math.Abs(_number) < 9.007199254740992E15)
                {
                    writer.WriteNumberValue((long)_number);
                }
                else
                {
                    writer.WriteNumberValue(_number);
                }

                break;
            case LogicKind.String:
                writer.WriteStringValue(String);
                break;
            case LogicKind.Array:
                writer.WriteStartArray();
                foreach (var item in Items)
                {
                    item.WriteTo(writer);
                }

                writer.WriteEndArray();
                break;
            case LogicKind.Object:
                writer.WriteStartObject();
                foreach (var (key, value) in Object!.Properties)
                {
                    writer.WritePropertyName(key);
                    value.WriteTo(writer);
                }

                writer.WriteEndObject();
                break;
            default:
                // NaN and the infinities have no JSON form; JSON.stringify writes them as null too.
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>The value as compact JSON text.</summary>
    public string ToJson()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Structural equality: the same kind and the same content, numbers by value. (JsonLogic's own <c>==</c> and
    /// <c>===</c> are <see cref="LogicSemantics.LooseEquals"/> and <see cref="LogicSemantics.StrictEquals"/>.)
    /// </summary>
    public bool Equals(LogicValue other)
    {
        if (Kind != other.Kind)
        {
            return false;
        }

        switch (Kind)
        {
            case LogicKind.Null:
                return true;
            case LogicKind.Boolean:
            case LogicKind.Number:
                return _number.Equals(other._number);
            case LogicKind.String:
                return string.Equals(String, other.String, StringComparison.Ordinal);
            case LogicKind.Array:
                return Items.SequenceEqual(other.Items);
            default:
                var mine = Object!;
                var theirs = other.Object!;
                return mine.Count == theirs.Count
                    && mine.Properties.All(p => theirs.TryGetValue(p.Key, out var v) && p.Value.Equals(v));
        }
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is LogicValue other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Kind switch
    {
        LogicKind.Boolean or LogicKind.Number => HashCode.Combine(Kind, _number),
        LogicKind.String => HashCode.Combine(Kind, StringComparer.Ordinal.GetHashCode(String!)),
        LogicKind.Array => HashCode.Combine(Kind, Items.Length),
        LogicKind.Object => HashCode.Combine(Kind, Object!.Count),
        _ => 0,
    };

    /// <summary>The value as compact JSON text.</summary>
    public override string ToString() => Kind switch
    {
        LogicKind.String => String!,
        LogicKind.Number => _number.ToString("R", CultureInfo.InvariantCulture),
        _ => ToJson(),
    };

    /// <summary>Structural equality.</summary>
    public static bool operator ==(LogicValue left, LogicValue right) => left.Equals(right);

    /// <summary>Structural inequality.</summary>
    public static bool operator !=(LogicValue left, LogicValue right) => !left.Equals(right);
}
