// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Text;
using Keel.Flags.JsonLogic;

namespace Keel.Flags.Targeting;

/// <summary>
/// The operations flagd adds to JsonLogic, with flagd's semantics: <c>fractional</c>, <c>sem_ver</c>, <c>starts_with</c>
/// and <c>ends_with</c>. Each answers null, never an error, to arguments it cannot use; null is false in a condition and
/// the default variant as a rule's result.
/// </summary>
public static class FlagdOperations
{
    /// <summary>The context property the evaluation adds: <c>{"flagKey": ..., "timestamp": ...}</c>.</summary>
    public const string FlagdProperty = "$flagd";

    /// <summary>The context property that identifies the subject of an evaluation.</summary>
    public const string TargetingKeyProperty = "targetingKey";

    /// <summary>JsonLogic's standard operations and flagd's.</summary>
    public static LogicOperations All { get; } = LogicOperations.Standard
        .With("fractional", Fractional)
        .With("sem_ver", static (arguments, _) => SemanticVersion.Evaluate(arguments))
        .With("starts_with", static (arguments, _) => CompareText(arguments, static (text, prefix) => text.StartsWith(prefix, StringComparison.Ordinal)))
        .With("ends_with", static (arguments, _) => CompareText(arguments, static (text, suffix) => text.EndsWith(suffix, StringComparison.Ordinal)));

    /// <summary>
    /// <c>fractional</c>: picks a variant for a bucketing value, stably, by weight. The value is the first argument when it is
    /// a string; otherwise (absent, or null) the flag's key followed by the targeting key. Its MurmurHash3 (x86, 32-bit, seed
    /// 0, over UTF-8) scaled to the total weight, <c>hash × total &gt;&gt; 32</c>, falls in one bucket of
    /// <c>[variant, weight]</c> (weight 1 when left out, negative weights 0).
    /// </summary>
    static LogicValue Fractional(ReadOnlySpan<LogicValue> arguments, LogicValue data)
    {
        if (arguments.Length == 0)
        {
            return LogicValue.Null;
        }

        string bucketBy;
        var buckets = arguments;
        if (arguments[0].Kind == LogicKind.String)
        {
            bucketBy = arguments[0].String!;
            buckets = arguments[1..];
        }
        else
        {
            if (arguments[0].IsNull)
            {
                buckets = arguments[1..];
            }

            var targetingKey = Property(data, TargetingKeyProperty);
            if (targetingKey is not { Kind: LogicKind.String, String.Length: > 0 })
            {
                return LogicValue.Null;
            }

            var flagKey = Property(Property(data, FlagdProperty), "flagKey");
            bucketBy = (flagKey.String ?? "") + targetingKey.String;
        }

        long total = 0;
        foreach (var bucket in buckets)
        {
            if (!TryReadBucket(bucket, out _, out var weight))
            {
                return LogicValue.Null;
            }

            total += weight;
        }

        if (total is 0 or > int.MaxValue)
        {
            return LogicValue.Null;
        }

        var point = ((ulong)Hash(bucketBy) * (ulong)total) >> 32;
        ulong end = 0;
        foreach (var bucket in buckets)
        {
            TryReadBucket(bucket, out var variant, out var weight);
            end += (ulong)weight;
            if (point < end)
            {
                return variant;
            }
        }

        return LogicValue.Null;
    }

    static bool TryReadBucket(LogicValue bucket, out LogicValue variant, out long weight)
    {
        variant = LogicValue.Null;
        weight = 1;
        var items = bucket.Items;
        if (bucket.Kind != LogicKind.Array || items.Length == 0 || items[0].Kind is LogicKind.Array or LogicKind.Object)
        {
            return false;
        }

        variant = items[0];
        if (items.Length < 2 || items[1].IsNull)
        {
            return true;
        }

        var number = items[1].Number;
        if (items[1].Kind != LogicKind.Number || number != Math.Floor(number) || number > int.MaxValue)
        {
            return false;
        }

        weight = number < 0 ? 0 : (long)number;
        return true;
    }

    static uint Hash(string text)
    {
        var length = Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = length > 512 ? ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            Span<byte> buffer = rented ?? stackalloc byte[512];
            var written = Encoding.UTF8.GetBytes(text, buffer);
            return MurmurHash3.Hash32(buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    static LogicValue Property(LogicValue value, string name) =>
        value.Object is { } o && o.TryGetValue(name, out var property) ? property : LogicValue.Null;

    static LogicValue CompareText(ReadOnlySpan<LogicValue> arguments, Func<string, string, bool> compare) =>
        arguments is [{ Kind: LogicKind.String } text, { Kind: LogicKind.String } part]
            ? LogicValue.From(compare(text.String!, part.String!))
            : LogicValue.Null;
}
