// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Flags.JsonLogic;
using Keel.Flags.Targeting;

namespace Keel.Flags;

/// <summary>Why an evaluation gave what it gave, in OpenFeature's (and flagd's) words.</summary>
public static class FlagReasons
{
    /// <summary>The flag has no targeting: its default variant.</summary>
    public const string Static = "STATIC";

    /// <summary>Targeting picked a variant.</summary>
    public const string TargetingMatch = "TARGETING_MATCH";

    /// <summary>Targeting gave null, or the flag has no default variant: the default variant, or no value.</summary>
    public const string Default = "DEFAULT";

    /// <summary>The flag is disabled: no value.</summary>
    public const string Disabled = "DISABLED";

    /// <summary>The evaluation failed: no value, and an error code.</summary>
    public const string Error = "ERROR";
}

/// <summary>Why an evaluation failed, in OpenFeature's (and flagd's) words.</summary>
public static class FlagErrorCodes
{
    /// <summary>No flag has the key.</summary>
    public const string FlagNotFound = "FLAG_NOT_FOUND";

    /// <summary>The targeting rule could not be evaluated.</summary>
    public const string ParseError = "PARSE_ERROR";

    /// <summary>The value is not of the type the caller asked for.</summary>
    public const string TypeMismatch = "TYPE_MISMATCH";

    /// <summary>The evaluation context is not an object.</summary>
    public const string InvalidContext = "INVALID_CONTEXT";

    /// <summary>Anything else, such as a targeting rule that names a variant the flag does not have.</summary>
    public const string General = "GENERAL";
}

/// <summary>The outcome of evaluating a flag for a context.</summary>
public sealed class FlagResult
{
    /// <summary>The flag's key.</summary>
    public required string Key { get; init; }

    /// <summary>The variant's value; <see langword="null"/> when there is none, and the caller uses its own default.</summary>
    public LogicValue? Value { get; init; }

    /// <summary>The variant's name, when there is a value.</summary>
    public string? Variant { get; init; }

    /// <summary>One of <see cref="FlagReasons"/>.</summary>
    public required string Reason { get; init; }

    /// <summary>One of <see cref="FlagErrorCodes"/> when <see cref="Reason"/> is <see cref="FlagReasons.Error"/>.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>What went wrong, for people.</summary>
    public string? ErrorDetails { get; init; }

    /// <summary>The flag's metadata (over its flag set's).</summary>
    public IReadOnlyDictionary<string, LogicValue> Metadata { get; init; } = EmptyMetadata;

    internal static IReadOnlyDictionary<string, LogicValue> EmptyMetadata { get; } = new Dictionary<string, LogicValue>();

    /// <summary>The result for a key no flag has.</summary>
    public static FlagResult NotFound(string key) => new()
    {
        Key = key,
        Reason = FlagReasons.Error,
        ErrorCode = FlagErrorCodes.FlagNotFound,
        ErrorDetails = $"No flag has the key '{key}'.",
    };
}

/// <summary>
/// Evaluates flags as flagd does, in its order: a disabled flag has no value (reason DISABLED); a flag without targeting
/// serves its default variant (STATIC); otherwise the targeting rule runs against the context plus
/// <c>$flagd.flagKey</c> and <c>$flagd.timestamp</c>, and its result names the variant (TARGETING_MATCH), or is null for
/// the default variant (DEFAULT). A flag without a default variant gives no value where it would serve it. The server and
/// the client SDK evaluate with this one class.
/// </summary>
public static class FlagEvaluator
{
    /// <summary>Evaluates <paramref name="flag"/> for <paramref name="context"/> at <paramref name="now"/>, within <see cref="LogicLimits.Default"/>.</summary>
    public static FlagResult Evaluate(FlagDefinition flag, LogicObject context, DateTimeOffset now) =>
        Evaluate(flag, context, now, LogicLimits.Default);

    /// <summary>
    /// Evaluates <paramref name="flag"/> for <paramref name="context"/> at <paramref name="now"/>. A targeting rule that would
    /// do more work than <paramref name="limits"/> allow stops there, and the result is an error (<see cref="FlagErrorCodes.General"/>).
    /// </summary>
    public static FlagResult Evaluate(FlagDefinition flag, LogicObject context, DateTimeOffset now, LogicLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(flag);
        ArgumentNullException.ThrowIfNull(context);
        if (!flag.Enabled)
        {
            return new FlagResult { Key = flag.Key, Reason = FlagReasons.Disabled, Metadata = flag.Metadata };
        }

        if (flag.Targeting is null)
        {
            return Serve(flag, flag.DefaultVariant, FlagReasons.Static);
        }

        var flagd = new FlagdProperties(flag.Key, now.ToUnixTimeSeconds());
        LogicValue result;
        string variant;
        try
        {
            result = flag.Targeting.Evaluate(LogicValue.From(context.With(FlagdOperations.FlagdProperty, LogicValue.From(flagd))), limits);
            if (result.IsNull)
            {
                return Serve(flag, flag.DefaultVariant, FlagReasons.Default);
            }

            variant = VariantName(result);
        }
        catch (LogicBudgetExceededException e)
        {
            return Error(flag, FlagErrorCodes.General, $"The targeting rule of flag '{flag.Key}' needs more work than one evaluation may do: {e.What}.");
        }
        catch (InsufficientExecutionStackException)
        {
            // A rule can build values too deep to handle (reduce wrapping its accumulator, say); that is the rule's failure.
            return Error(flag, FlagErrorCodes.ParseError, $"The targeting rule of flag '{flag.Key}' builds values nested too deeply to evaluate.");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            // The runtime's own message names its internals, which tell the caller nothing about the rule.
            return Error(flag, FlagErrorCodes.ParseError, $"The targeting rule of flag '{flag.Key}' cannot be evaluated for this context.");
        }

        return flag.Variants.ContainsKey(variant)
            ? Serve(flag, variant, FlagReasons.TargetingMatch)
            : Error(flag, FlagErrorCodes.General, $"The targeting rule chose variant '{variant}', which flag '{flag.Key}' does not have.");
    }

    /// <summary>
    /// The variant a targeting result names: a string as it is, anything else as its JSON text without quotes (so true names
    /// the variant "true" and 1 the variant "1"), as flagd reads it.
    /// </summary>
    public static string VariantName(LogicValue result) => result.Kind switch
    {
        LogicKind.String => result.String!,
        LogicKind.Number => LogicSemantics.FormatNumber(result.Number),
        _ => result.ToJson().Replace("\"", "", StringComparison.Ordinal),
    };

    static FlagResult Serve(FlagDefinition flag, string? variant, string reason) => variant is null
        ? new FlagResult { Key = flag.Key, Reason = FlagReasons.Default, Metadata = flag.Metadata }
        : new FlagResult { Key = flag.Key, Value = flag.Variants[variant], Variant = variant, Reason = reason, Metadata = flag.Metadata };

    static FlagResult Error(FlagDefinition flag, string code, string details) => new()
    {
        Key = flag.Key,
        Reason = FlagReasons.Error,
        ErrorCode = code,
        ErrorDetails = details,
        Metadata = flag.Metadata,
    };

    /// <summary><c>$flagd</c>: the flag's key and the time of evaluation in Unix seconds, without a dictionary per evaluation.</summary>
    sealed class FlagdProperties(string flagKey, long timestamp) : LogicObject
    {
        public override int Count => 2;

        public override IEnumerable<KeyValuePair<string, LogicValue>> Properties =>
            [KeyValuePair.Create("flagKey", LogicValue.From(flagKey)), KeyValuePair.Create("timestamp", LogicValue.From(timestamp))];

        public override bool TryGetValue(string name, out LogicValue value)
        {
            value = name switch
            {
                "flagKey" => LogicValue.From(flagKey),
                "timestamp" => LogicValue.From(timestamp),
                _ => LogicValue.Null,
            };
            return name is "flagKey" or "timestamp";
        }
    }
}
