// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;

namespace Keel.Flags.JsonLogic;

/// <summary>The most work one evaluation of a rule may do.</summary>
/// <remarks>
/// The defaults let a rule evaluate in milliseconds at most and allocate a few megabytes at most, orders of magnitude more than
/// targeting rules need, while a rule written to exhaust its host (a <c>reduce</c> that doubles a string, a <c>map</c> inside a
/// <c>map</c> over long lists) stops at once.
/// </remarks>
public sealed record LogicLimits
{
    /// <summary>The limits every evaluation has unless it is given others.</summary>
    public static LogicLimits Default { get; } = new();

    /// <summary>The most operations one evaluation performs, each call inside <c>map</c>, <c>filter</c> or <c>reduce</c> counted.</summary>
    public int MaxOperations { get; init; } = 100_000;

    /// <summary>
    /// The most items and characters one evaluation's operations read: each array an operation is given, counted by every item
    /// it holds however deep, each string by its length, and each item <c>map</c>, <c>filter</c>, <c>reduce</c>, <c>all</c>,
    /// <c>some</c> or <c>none</c> visits. A rule that holds a literal larger than this is refused when it is compiled.
    /// </summary>
    public int MaxIterations { get; init; } = 1_000_000;

    /// <summary>The most characters of strings and items of arrays one evaluation's operations build, all together.</summary>
    public int MaxBuiltLength { get; init; } = 1_000_000;
}

/// <summary>The work one evaluation has left; every operation of a rule charges it before it does the work.</summary>
public sealed class LogicBudget
{
    /// <summary>How deep <see cref="Scan"/> follows nested arrays on the call stack before it keeps its own.</summary>
    const int MaxScanRecursion = 16;

    LogicLimits _limits;
    int _operations;
    long _iterations;
    long _built;

    /// <summary>A budget of <paramref name="limits"/>.</summary>
    public LogicBudget(LogicLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
    }

    /// <summary>Makes this budget a fresh one of <paramref name="limits"/>, so that one object serves evaluation after evaluation.</summary>
    internal void Reset(LogicLimits limits)
    {
        _limits = limits;
        _operations = 0;
        _iterations = 0;
        _built = 0;
    }

    /// <summary>Charges one operation.</summary>
    /// <exception cref="LogicBudgetExceededException">The evaluation has performed <see cref="LogicLimits.MaxOperations"/> operations.</exception>
    public void Operation()
    {
        if (++_operations > _limits.MaxOperations)
        {
            throw Exceeded($"more than {Count(_limits.MaxOperations)} operations");
        }
    }

    /// <summary>Charges the visit of <paramref name="count"/> items.</summary>
    /// <exception cref="LogicBudgetExceededException">The evaluation has read <see cref="LogicLimits.MaxIterations"/> items and characters.</exception>
    public void Iterate(int count)
    {
        _iterations += count;
        if (_iterations > _limits.MaxIterations)
        {
            throw Exceeded($"reading more than {Count(_limits.MaxIterations)} items and characters");
        }
    }

    /// <summary>
    /// Charges the reading of a value an operation is given: a string by its length, an array by every item it holds, however
    /// deep. Reading it may cost that much (comparing an array with a string joins it into text), and charging first bounds it.
    /// </summary>
    /// <exception cref="LogicBudgetExceededException">The evaluation has read <see cref="LogicLimits.MaxIterations"/> items and characters.</exception>
    public void Scan(LogicValue value)
    {
        if (value.Kind == LogicKind.String)
        {
            Iterate(value.String!.Length);
            return;
        }

        if (value.ArrayOrNull is { } array)
        {
            ScanItems(array, 0);
        }
    }

    void ScanItems(LogicValue[] items, int depth)
    {
        Iterate(items.Length);
        foreach (var item in items)
        {
            if (item.Kind == LogicKind.String)
            {
                Iterate(item.String!.Length);
            }
            else if (item.ArrayOrNull is { Length: > 0 } nested)
            {
                if (depth < MaxScanRecursion)
                {
                    ScanItems(nested, depth + 1);
                }
                else
                {
                    ScanDeep(nested);
                }
            }
        }
    }

    /// <summary>The walk past <see cref="MaxScanRecursion"/> levels, on a stack of its own: built arrays may nest without limit.</summary>
    void ScanDeep(LogicValue[] array)
    {
        var pending = new Stack<LogicValue[]>();
        pending.Push(array);
        while (pending.TryPop(out var items))
        {
            Iterate(items.Length);
            foreach (var item in items)
            {
                if (item.Kind == LogicKind.String)
                {
                    Iterate(item.String!.Length);
                }
                else if (item.ArrayOrNull is { Length: > 0 } nested)
                {
                    pending.Push(nested);
                }
            }
        }
    }

    /// <summary>Charges a value an operation built: a string by its length, an array by its items.</summary>
    /// <exception cref="LogicBudgetExceededException">The evaluation has built <see cref="LogicLimits.MaxBuiltLength"/> characters and items.</exception>
    public void Built(LogicValue value)
    {
        var length = value.Kind switch
        {
            LogicKind.String => value.String!.Length,
            LogicKind.Array => value.Items.Length,
            _ => 0,
        };
        if (length == 0)
        {
            return;
        }

        _built += length;
        if (_built > _limits.MaxBuiltLength)
        {
            throw Exceeded($"building more than {Count(_limits.MaxBuiltLength)} characters and items");
        }
    }

    static string Count(int limit) => limit.ToString("N0", CultureInfo.InvariantCulture);

    static LogicBudgetExceededException Exceeded(string what) => new(what);
}

/// <summary>An evaluation stopped because it would do more work than its <see cref="LogicLimits"/> allow.</summary>
public sealed class LogicBudgetExceededException : Exception
{
    /// <summary>An evaluation that went past <paramref name="what"/>, such as "more than 100,000 operations".</summary>
    public LogicBudgetExceededException(string what)
        : base($"The rule needs more work than one evaluation may do: {what}.") => What = what;

    /// <summary>What the evaluation went past, such as "more than 100,000 operations".</summary>
    public string What { get; }
}
