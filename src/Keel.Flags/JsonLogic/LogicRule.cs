// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;

namespace Keel.Flags.JsonLogic;

/// <summary>
/// A JsonLogic rule, compiled once into a tree of operations and then evaluated against any data without parsing it again.
/// The semantics are those of the reference implementation, json-logic-js, and its shared test suite.
/// </summary>
public sealed class LogicRule
{
    /// <summary>How deeply rules may nest; deeper rules are refused rather than risk the stack.</summary>
    public const int MaxDepth = 64;

    // One budget per thread, reused, so that an evaluation allocates none; an evaluation inside another (an operation that
    // evaluates a rule of its own) finds it taken and makes its own.
    [ThreadStatic]
    static LogicBudget? _spareBudget;

    readonly LogicNode _root;

    LogicRule(LogicNode root) => _root = root;

    /// <summary>Compiles a rule with the standard operations.</summary>
    /// <exception cref="LogicRuleException">The rule uses an unknown operation, nests too deeply or holds a literal too large to read.</exception>
    public static LogicRule Compile(JsonElement rule) => Compile(rule, LogicOperations.Standard);

    /// <summary>Compiles a rule with the given operations, for evaluations within <see cref="LogicLimits.Default"/>.</summary>
    /// <exception cref="LogicRuleException">The rule uses an operation <paramref name="operations"/> lacks, nests too deeply or holds a literal too large to read.</exception>
    public static LogicRule Compile(JsonElement rule, LogicOperations operations) => Compile(rule, operations, LogicLimits.Default);

    /// <summary>Compiles a rule with the given operations, for evaluations within <paramref name="limits"/>.</summary>
    /// <exception cref="LogicRuleException">
    /// The rule uses an operation <paramref name="operations"/> lacks, nests too deeply, or holds a literal (an array or a
    /// string) larger than an evaluation may read (<see cref="LogicLimits.MaxIterations"/>): any operation given it would fail.
    /// </exception>
    public static LogicRule Compile(JsonElement rule, LogicOperations operations, LogicLimits limits)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(limits);
        return new LogicRule(Compile(rule, operations, limits, "$", 0));
    }

    /// <summary>Evaluates the rule against <paramref name="data"/> within <see cref="LogicLimits.Default"/>.</summary>
    /// <exception cref="LogicBudgetExceededException">The evaluation would do more work than the limits allow.</exception>
    public LogicValue Evaluate(LogicValue data) => Evaluate(data, LogicLimits.Default);

    /// <summary>Evaluates the rule against <paramref name="data"/> within <paramref name="limits"/>.</summary>
    /// <exception cref="LogicBudgetExceededException">The evaluation would do more work than <paramref name="limits"/> allow.</exception>
    public LogicValue Evaluate(LogicValue data, LogicLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var budget = _spareBudget ?? new LogicBudget(limits);
        _spareBudget = null;
        budget.Reset(limits);
        try
        {
            return _root.Evaluate(data, budget);
        }
        finally
        {
            _spareBudget = budget;
        }
    }

    static LogicNode Compile(JsonElement rule, LogicOperations operations, LogicLimits limits, string path, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new LogicRuleException(path, $"The rule nests more than {MaxDepth} levels deep.");
        }

        switch (rule.ValueKind)
        {
            case JsonValueKind.Array:
                var items = rule.EnumerateArray().Select((item, i) => Compile(item, operations, limits, $"{path}[{i}]", depth + 1)).ToArray();
                return items.All(i => i is LiteralNode)
                    ? Literal(LogicValue.FromArray([.. items.Select(i => ((LiteralNode)i).Value)]), limits, path)
                    : new ArrayNode(items);
            case JsonValueKind.Object:
                using (var properties = rule.EnumerateObject())
                {
                    // Only an object of exactly one property is an operation; any other object is data.
                    if (!properties.MoveNext() || rule.EnumerateObject().Skip(1).Any())
                    {
                        return new LiteralNode(LogicValue.FromJson(rule));
                    }

                    var name = properties.Current.Name;
                    var operationPath = $"{path}.{name}";
                    if (!operations.TryGet(name, out var bind))
                    {
                        throw new LogicRuleException(operationPath, $"'{name}' is not a known operation.");
                    }

                    // A single argument may be written without its array: {"var": "a"} is {"var": ["a"]}.
                    var value = properties.Current.Value;
                    var arguments = value.ValueKind == JsonValueKind.Array
                        ? value.EnumerateArray().Select((item, i) => Compile(item, operations, limits, $"{operationPath}[{i}]", depth + 1)).ToArray()
                        : [Compile(value, operations, limits, operationPath, depth + 1)];
                    return bind(arguments, operationPath);
                }

            default:
                return Literal(LogicValue.FromJson(rule), limits, path);
        }
    }

    /// <summary>A constant, unless reading it would cost more than an evaluation may spend, which makes every use of it fail.</summary>
    static LiteralNode Literal(LogicValue value, LogicLimits limits, string path)
    {
        try
        {
            new LogicBudget(limits).Scan(value);
        }
        catch (LogicBudgetExceededException)
        {
            throw new LogicRuleException(
                path,
                $"The rule holds a literal of more than {limits.MaxIterations:N0} items and characters, more than one evaluation may read.");
        }

        return new LiteralNode(value);
    }

    sealed class ArrayNode(LogicNode[] items) : LogicNode
    {
        public override LogicValue Evaluate(LogicValue data, LogicBudget budget)
        {
            budget.Operation();
            var values = new LogicValue[items.Length];
            for (var i = 0; i < items.Length; i++)
            {
                values[i] = items[i].Evaluate(data, budget);
            }

            var array = LogicValue.FromArray(values);
            budget.Built(array);
            return array;
        }
    }
}

/// <summary>A compiled part of a rule.</summary>
public abstract class LogicNode
{
    /// <summary>The part's value for <paramref name="data"/>, charging its work to <paramref name="budget"/>.</summary>
    /// <exception cref="LogicBudgetExceededException">The work would exceed the budget.</exception>
    public abstract LogicValue Evaluate(LogicValue data, LogicBudget budget);
}

/// <summary>A constant part of a rule.</summary>
public sealed class LiteralNode(LogicValue value) : LogicNode
{
    /// <summary>The constant.</summary>
    public LogicValue Value { get; } = value;

    /// <inheritdoc/>
    public override LogicValue Evaluate(LogicValue data, LogicBudget budget) => Value;
}

/// <summary>Why a JsonLogic rule cannot be compiled, and where in it.</summary>
public sealed class LogicRuleException(string path, string message) : Exception(message)
{
    /// <summary>The JSON path of the offending part of the rule, such as <c>$.if[0].foo</c>.</summary>
    public string Path { get; } = path;
}
