// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using static Keel.Flags.JsonLogic.LogicSemantics;

namespace Keel.Flags.JsonLogic;

/// <summary>JsonLogic's standard operations, each as json-logic-js defines it.</summary>
static class StandardOperations
{
    public static IEnumerable<KeyValuePair<string, Func<LogicNode[], string, LogicNode>>> All()
    {
        static KeyValuePair<string, Func<LogicNode[], string, LogicNode>> Eager(string name, EagerOperation operation) =>
            KeyValuePair.Create<string, Func<LogicNode[], string, LogicNode>>(name, (arguments, _) => new LogicOperations.EagerNode(arguments, operation));

        static KeyValuePair<string, Func<LogicNode[], string, LogicNode>> Lazy(string name, LazyOperation operation) =>
            KeyValuePair.Create<string, Func<LogicNode[], string, LogicNode>>(name, (arguments, _) => new LogicOperations.LazyNode(arguments, operation));

        yield return KeyValuePair.Create<string, Func<LogicNode[], string, LogicNode>>("var", (arguments, _) => VarNode.Create(arguments));
        yield return Eager("missing", (a, data) => Missing(a.Length > 0 && a[0].Kind == LogicKind.Array ? a[0].Items : a, data));
        yield return Eager("missing_some", MissingSome);
        yield return Lazy("if", If);
        yield return Lazy("?:", If);
        yield return Lazy("and", And);
        yield return Lazy("or", Or);
        yield return Eager("==", (a, _) => LogicValue.From(LooseEquals(Arg(a, 0), Arg(a, 1))));
        yield return Eager("!=", (a, _) => LogicValue.From(!LooseEquals(Arg(a, 0), Arg(a, 1))));
        yield return Eager("===", (a, _) => LogicValue.From(StrictEquals(Arg(a, 0), Arg(a, 1))));
        yield return Eager("!==", (a, _) => LogicValue.From(!StrictEquals(Arg(a, 0), Arg(a, 1))));
        yield return Eager("!", (a, _) => LogicValue.From(!IsTruthy(Arg(a, 0))));
        yield return Eager("!!", (a, _) => LogicValue.From(IsTruthy(Arg(a, 0))));
        yield return Eager(">", (a, _) => LogicValue.From(Compare(Arg(a, 0), Arg(a, 1)) > 0));
        yield return Eager(">=", (a, _) => LogicValue.From(Compare(Arg(a, 0), Arg(a, 1)) >= 0));
        yield return Eager("<", (a, _) => LogicValue.From(Compare(Arg(a, 0), Arg(a, 1)) < 0 && (a.Length < 3 || Compare(a[1], a[2]) < 0)));
        yield return Eager("<=", (a, _) => LogicValue.From(Compare(Arg(a, 0), Arg(a, 1)) <= 0 && (a.Length < 3 || Compare(a[1], a[2]) <= 0)));
        yield return Eager("max", (a, _) => MinMax(a, max: true));
        yield return Eager("min", (a, _) => MinMax(a, max: false));
        yield return Eager("+", Add);
        yield return Eager("*", Multiply);
        yield return Eager("-", (a, _) => LogicValue.From(a.Length < 2 ? -ToNumber(Arg(a, 0)) : ToNumber(a[0]) - ToNumber(a[1])));
        yield return Eager("/", (a, _) => LogicValue.From(ToNumber(Arg(a, 0)) / ToNumber(Arg(a, 1))));
        yield return Eager("%", (a, _) => LogicValue.From(ToNumber(Arg(a, 0)) % ToNumber(Arg(a, 1))));
        yield return Eager("in", (a, _) => In(Arg(a, 0), Arg(a, 1)));
        yield return Eager("cat", Cat);
        yield return Eager("substr", Substring);
        yield return Eager("merge", Merge);
        yield return Eager("log", (a, _) => Arg(a, 0));
        yield return Lazy("map", Map);
        yield return Lazy("filter", (a, data, budget) => Built(LogicValue.FromArray(Filter(a, data, budget)), budget));
        yield return Lazy("reduce", Reduce);
        yield return Lazy("all", All);
        yield return Lazy("none", (a, data, budget) => LogicValue.From(Filter(a, data, budget).Length == 0));
        yield return Lazy("some", (a, data, budget) => LogicValue.From(Filter(a, data, budget).Length > 0));
    }

    /// <summary>An argument, or null (JavaScript's undefined) past the end.</summary>
    static LogicValue Arg(ReadOnlySpan<LogicValue> arguments, int index) => index < arguments.Length ? arguments[index] : LogicValue.Null;

    static LogicValue Arg(LogicNode[] arguments, int index, LogicValue data, LogicBudget budget) =>
        index < arguments.Length ? arguments[index].Evaluate(data, budget) : LogicValue.Null;

    static LogicValue Built(LogicValue value, LogicBudget budget)
    {
        budget.Built(value);
        return value;
    }

    static LogicValue Missing(ReadOnlySpan<LogicValue> keys, LogicValue data)
    {
        List<LogicValue>? missing = null;
        foreach (var key in keys)
        {
            var value = VarNode.Read(data, key, LogicValue.Null);
            if (value.IsNull || value is { Kind: LogicKind.String, String.Length: 0 })
            {
                (missing ??= []).Add(key);
            }
        }

        return missing is null ? LogicValue.EmptyArray : LogicValue.FromArray([.. missing]);
    }

    static LogicValue MissingSome(ReadOnlySpan<LogicValue> arguments, LogicValue data)
    {
        var need = ToNumber(Arg(arguments, 0));
        var options = Arg(arguments, 1).Items;
        var missing = Missing(options, data);
        return options.Length - missing.Items.Length >= need ? LogicValue.EmptyArray : missing;
    }

    static LogicValue If(LogicNode[] arguments, LogicValue data, LogicBudget budget)
    {
        var i = 0;
        for (; i < arguments.Length - 1; i += 2)
        {
            if (IsTruthy(arguments[i].Evaluate(data, budget)))
            {
                return arguments[i + 1].Evaluate(data, budget);
            }
        }

        return i == arguments.Length - 1 ? arguments[i].Evaluate(data, budget) : LogicValue.Null;
    }

    static LogicValue And(LogicNode[] arguments, LogicValue data, LogicBudget budget)
    {
        var current = LogicValue.Null;
        foreach (var argument in arguments)
        {
            current = argument.Evaluate(data, budget);
            if (!IsTruthy(current))
            {
                return current;
            }
        }

        return current;
    }

    static LogicValue Or(LogicNode[] arguments, LogicValue data, LogicBudget budget)
    {
        var current = LogicValue.Null;
        foreach (var argument in arguments)
        {
            current = argument.Evaluate(data, budget);
            if (IsTruthy(current))
            {
                return current;
            }
        }

        return current;
    }

    static LogicValue MinMax(ReadOnlySpan<LogicValue> arguments, bool max)
    {
        var result = max ? double.NegativeInfinity : double.PositiveInfinity;
        foreach (var argument in arguments)
        {
            var number = ToNumber(argument);
            if (double.IsNaN(number))
            {
                return LogicValue.From(double.NaN);
            }

            result = max ? Math.Max(result, number) : Math.Min(result, number);
        }

        return LogicValue.From(result);
    }

    static LogicValue Add(ReadOnlySpan<LogicValue> arguments, LogicValue data)
    {
        double sum = 0;
        foreach (var argument in arguments)
        {
            sum += ParseFloat(argument);
        }

        return LogicValue.From(sum);
    }

    static LogicValue Multiply(ReadOnlySpan<LogicValue> arguments, LogicValue data)
    {
        // json-logic-js reduces without an initial value: one argument is returned as it is.
        if (arguments.Length == 1)
        {
            return arguments[0];
        }

        double product = 1;
        foreach (var argument in arguments)
        {
            product *= ParseFloat(argument);
        }

        return LogicValue.From(product);
    }

    static LogicValue In(LogicValue needle, LogicValue haystack)
    {
        switch (haystack.Kind)
        {
            case LogicKind.String:
                return LogicValue.From(haystack.String!.Contains(ToText(needle), StringComparison.Ordinal));
            case LogicKind.Array:
                foreach (var item in haystack.Items)
                {
                    if (StrictEquals(item, needle))
                    {
                        return LogicValue.True;
                    }
                }

                return LogicValue.False;
            default:
                return LogicValue.False;
        }
    }

    static LogicValue Cat(ReadOnlySpan<LogicValue> arguments, LogicValue data)
    {
        if (arguments.Length == 1)
        {
            return LogicValue.From(arguments[0].IsNull ? "" : ToText(arguments[0]));
        }

        var text = new System.Text.StringBuilder();
        foreach (var argument in arguments)
        {
            // Array.prototype.join writes null and undefined as nothing.
            if (!argument.IsNull)
            {
                text.Append(ToText(argument));
            }
        }

        return LogicValue.From(text.ToString());
    }

    /// <summary>JavaScript's <c>String.prototype.substr(start, length)</c>, where a negative length drops that many from the end.</summary>
    static LogicValue Substring(ReadOnlySpan<LogicValue> arguments, LogicValue data)
    {
        var source = ToText(Arg(arguments, 0));
        var start = ToInteger(Arg(arguments, 1));
        start = start < 0 ? Math.Max(source.Length + start, 0) : Math.Min(start, source.Length);
        var rest = source[(int)start..];
        if (arguments.Length < 3 || arguments[2].IsNull)
        {
            return LogicValue.From(rest);
        }

        var length = ToInteger(arguments[2]);
        length = length < 0 ? Math.Max(rest.Length + length, 0) : Math.Min(length, rest.Length);
        return LogicValue.From(rest[..(int)length]);
    }

    static double ToInteger(LogicValue value)
    {
        var number = ToNumber(value);
        return double.IsNaN(number) ? 0 : Math.Clamp(Math.Truncate(number), int.MinValue, int.MaxValue);
    }

    static LogicValue Merge(ReadOnlySpan<LogicValue> arguments, LogicValue data)
    {
        var items = new List<LogicValue>();
        foreach (var argument in arguments)
        {
            if (argument.Kind == LogicKind.Array)
            {
                items.AddRange(argument.Items);
            }
            else
            {
                items.Add(argument);
            }
        }

        return LogicValue.FromArray([.. items]);
    }

    static LogicValue Map(LogicNode[] arguments, LogicValue data, LogicBudget budget)
    {
        var source = Arg(arguments, 0, data, budget);
        if (source.Kind != LogicKind.Array || arguments.Length < 2)
        {
            return LogicValue.EmptyArray;
        }

        var items = source.Items;
        budget.Iterate(items.Length);
        var result = new LogicValue[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            result[i] = arguments[1].Evaluate(items[i], budget);
        }

        return Built(LogicValue.FromArray(result), budget);
    }

    static LogicValue[] Filter(LogicNode[] arguments, LogicValue data, LogicBudget budget)
    {
        var source = Arg(arguments, 0, data, budget);
        if (source.Kind != LogicKind.Array)
        {
            return [];
        }

        budget.Iterate(source.Items.Length);
        var kept = new List<LogicValue>();
        foreach (var item in source.Items)
        {
            if (arguments.Length > 1 && IsTruthy(arguments[1].Evaluate(item, budget)))
            {
                kept.Add(item);
            }
        }

        return [.. kept];
    }

    static LogicValue Reduce(LogicNode[] arguments, LogicValue data, LogicBudget budget)
    {
        var source = Arg(arguments, 0, data, budget);
        var accumulator = Arg(arguments, 2, data, budget);
        if (source.Kind != LogicKind.Array || arguments.Length < 2)
        {
            return accumulator;
        }

        budget.Iterate(source.Items.Length);
        foreach (var item in source.Items)
        {
            var scope = LogicObject.From([KeyValuePair.Create("current", item), KeyValuePair.Create("accumulator", accumulator)]);
            accumulator = arguments[1].Evaluate(LogicValue.From(scope), budget);
        }

        return accumulator;
    }

    static LogicValue All(LogicNode[] arguments, LogicValue data, LogicBudget budget)
    {
        var source = Arg(arguments, 0, data, budget);
        if (source.Kind != LogicKind.Array || source.Items.Length == 0 || arguments.Length < 2)
        {
            return LogicValue.False;
        }

        budget.Iterate(source.Items.Length);
        foreach (var item in source.Items)
        {
            if (!IsTruthy(arguments[1].Evaluate(item, budget)))
            {
                return LogicValue.False;
            }
        }

        return LogicValue.True;
    }

    /// <summary>
    /// <c>var</c>: reads a dotted path from the data (an object's property, an array's or a string's index), or the default
    /// (null unless given) where the path leads nowhere; an empty or null path is the data itself.
    /// </summary>
    sealed class VarNode : LogicNode
    {
        readonly LogicNode[] _arguments;
        readonly string[]? _segments;

        VarNode(LogicNode[] arguments, string[]? segments)
        {
            _arguments = arguments;
            _segments = segments;
        }

        public static VarNode Create(LogicNode[] arguments) =>
            new VarNode(arguments, arguments is [LiteralNode { Value.Kind: LogicKind.String } path, ..] && path.Value.String!.Length > 0
                ? path.Value.String!.Split('.')
                : null);

        public override LogicValue Evaluate(LogicValue data, LogicBudget budget)
        {
            budget.Operation();
            if (_segments is null)
            {
                // A path computed by the rule is read as text, and may be long.
                var path = Arg(_arguments, 0, data, budget);
                budget.Scan(path);
                return Read(data, path, Arg(_arguments, 1, data, budget));
            }

            var value = data;
            foreach (var segment in _segments)
            {
                if (!TryStep(value, segment, out value))
                {
                    return Arg(_arguments, 1, data, budget);
                }
            }

            return value;
        }

        public static LogicValue Read(LogicValue data, LogicValue path, LogicValue notFound)
        {
            if (path.IsNull || path is { Kind: LogicKind.String, String.Length: 0 })
            {
                return data;
            }

            var value = data;
            foreach (var segment in ToText(path).Split('.'))
            {
                if (!TryStep(value, segment, out value))
                {
                    return notFound;
                }
            }

            return value;
        }

        static bool TryStep(LogicValue value, string segment, out LogicValue next)
        {
            switch (value.Kind)
            {
                case LogicKind.Object:
                    return value.Object!.TryGetValue(segment, out next);
                case LogicKind.Array when TryIndex(segment, value.Items.Length, out var index):
                    next = value.Items[index];
                    return true;
                case LogicKind.String when TryIndex(segment, value.String!.Length, out var index):
                    next = LogicValue.From(value.String![index].ToString());
                    return true;
                default:
                    next = LogicValue.Null;
                    return false;
            }
        }

        static bool TryIndex(string segment, int length, out int index) =>
            int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out index) && index < length
            && index.ToString(CultureInfo.InvariantCulture) == segment;
    }
}
