// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;

namespace Keel.Flags.JsonLogic;

/// <summary>A JSON object as JsonLogic rules read it: properties by name, in their original order.</summary>
public abstract class LogicObject
{
    /// <summary>The number of properties.</summary>
    public abstract int Count { get; }

    /// <summary>The properties, in order.</summary>
    public abstract IEnumerable<KeyValuePair<string, LogicValue>> Properties { get; }

    /// <summary>Reads a property.</summary>
    public abstract bool TryGetValue(string name, out LogicValue value);

    /// <summary>An object of the given properties; a later duplicate name replaces an earlier one.</summary>
    public static LogicObject From(IEnumerable<KeyValuePair<string, LogicValue>> properties) => new Table(properties);

    /// <summary>Reads a JSON object.</summary>
    public static LogicObject FromJson(JsonElement element) =>
        new Table(element.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, LogicValue.FromJson(p.Value))));

    /// <summary>
    /// This object with one property set to <paramref name="value"/>, replacing any of that name, without copying the others:
    /// how an evaluation adds its own data (such as <c>$flagd</c>) to a caller's context.
    /// </summary>
    public LogicObject With(string name, LogicValue value) => new Overlay(this, name, value);

    sealed class Table : LogicObject
    {
        readonly Dictionary<string, LogicValue> _values = new(StringComparer.Ordinal);
        readonly List<string> _order = [];

        public Table(IEnumerable<KeyValuePair<string, LogicValue>> properties)
        {
            foreach (var (name, value) in properties)
            {
                if (_values.TryAdd(name, value))
                {
                    _order.Add(name);
                }
                else
                {
                    _values[name] = value;
                }
            }
        }

        public override int Count => _order.Count;

        public override IEnumerable<KeyValuePair<string, LogicValue>> Properties => _order.Select(n => KeyValuePair.Create(n, _values[n]));

        public override bool TryGetValue(string name, out LogicValue value) => _values.TryGetValue(name, out value);
    }

    sealed class Overlay(LogicObject inner, string name, LogicValue value) : LogicObject
    {
        public override int Count => inner.TryGetValue(name, out _) ? inner.Count : inner.Count + 1;

        public override IEnumerable<KeyValuePair<string, LogicValue>> Properties =>
            inner.Properties.Where(p => p.Key != name).Append(KeyValuePair.Create(name, value));

        public override bool TryGetValue(string key, out LogicValue result)
        {
            if (key == name)
            {
                result = value;
                return true;
            }

            return inner.TryGetValue(key, out result);
        }
    }
}
