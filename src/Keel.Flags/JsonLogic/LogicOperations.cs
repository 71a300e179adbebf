// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Keel.Flags.JsonLogic;

/// <summary>An operation given its arguments' values.</summary>
/// <param name="arguments">The arguments, evaluated.</param>
/// <param name="data">The data the rule is evaluated against.</param>
public delegate LogicValue EagerOperation(ReadOnlySpan<LogicValue> arguments, LogicValue data);

/// <summary>An operation that decides which of its arguments to evaluate, and against what data.</summary>
/// <param name="arguments">The arguments, compiled.</param>
/// <param name="data">The data the rule is evaluated against.</param>
/// <param name="budget">The evaluation's budget, which the arguments charge as they are evaluated, and the operation for every item it visits.</param>
public delegate LogicValue LazyOperation(LogicNode[] arguments, LogicValue data, LogicBudget budget);

/// <summary>The operations a rule may use, by name.</summary>
public sealed class LogicOperations
{
    readonly FrozenDictionary<string, Func<LogicNode[], string, LogicNode>> _binders;

    LogicOperations(IEnumerable<KeyValuePair<string, Func<LogicNode[], string, LogicNode>>> binders) =>
        _binders = binders.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>JsonLogic's standard operations, as json-logic-js defines them.</summary>
    public static LogicOperations Standard { get; } = new(StandardOperations.All());

    /// <summary>These operations and one more, given its evaluated arguments.</summary>
    public LogicOperations With(string name, EagerOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return With(name, (arguments, _) => new EagerNode(arguments, operation));
    }

    /// <summary>These operations and one more, given its compiled arguments.</summary>
    public LogicOperations With(string name, LazyOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return With(name, (arguments, _) => new LazyNode(arguments, operation));
    }

    internal LogicOperations With(string name, Func<LogicNode[], string, LogicNode> binder) =>
        new(_binders.Where(b => b.Key != name).Append(KeyValuePair.Create(name, binder)));

    internal bool TryGet(string name, [MaybeNullWhen(false)] out Func<LogicNode[], string, LogicNode> bind) =>
        _binders.TryGetValue(name, out bind);

    internal static LogicOperations Create(IEnumerable<KeyValuePair<string, Func<LogicNode[], string, LogicNode>>> binders) => new(binders);

    /// <summary>
    /// Evaluates arguments into a buffer on the stack, for the common case of a few arguments. The operation is charged for
    /// reading its arguments in full, whatever it does with them, and for the value it builds.
    /// </summary>
    internal sealed class EagerNode(LogicNode[] arguments, EagerOperation operation) : LogicNode
    {
        public override LogicValue Evaluate(LogicValue data, LogicBudget budget)
        {
            budget.Operation();
            LogicValue result;
            if (arguments.Length <= 4)
            {
                var buffer = default(Four);
                Span<LogicValue> values = buffer;
                for (var i = 0; i < arguments.Length; i++)
                {
                    values[i] = arguments[i].Evaluate(data, budget);
                    budget.Scan(values[i]);
                }

                result = operation(values[..arguments.Length], data);
            }
            else
            {
                var many = new LogicValue[arguments.Length];
                for (var i = 0; i < arguments.Length; i++)
                {
                    many[i] = arguments[i].Evaluate(data, budget);
                    budget.Scan(many[i]);
                }

                result = operation(many, data);
            }

            budget.Built(result);
            return result;
        }
    }

    /// <summary>An operation that evaluates its own arguments; it charges what it visits and builds itself.</summary>
    internal sealed class LazyNode(LogicNode[] arguments, LazyOperation operation) : LogicNode
    {
        public override LogicValue Evaluate(LogicValue data, LogicBudget budget)
        {
            budget.Operation();
            return operation(arguments, data, budget);
        }
    }

    [InlineArray(4)]
    struct Four
    {
#pragma warning disable IDE0044, IDE0051 // The inline array's element: read and written through its span.
        LogicValue _element;
#pragma warning restore IDE0044, IDE0051
    }
}
