// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Keel.Server.Schemas;

/// <summary>
/// A JSON Schema ready to validate values within a bounded amount of work. NJsonSchema checks every keyword but
/// <c>pattern</c> and <c>patternProperties</c>: it matches those with <see cref="Regex.IsMatch(string, string)"/>, which has
/// no timeout, so one crafted pattern (<c>^(a+)+$</c>) holds a core for as long as it likes. Keel takes those two keywords
/// out of the compiled schema and matches them itself: on the non-backtracking engine, linear in the text, wherever the
/// pattern allows, and otherwise on the backtracking engine with <see cref="SchemaOptions.PatternMatchTimeout"/>. Each
/// validation also counts its steps (<see cref="SchemaOptions.MaxValidationSteps"/>), stops where the stack runs short
/// (a schema may refer to itself), and observes its cancellation token.
/// </summary>
sealed class CompiledSchema
{
    // Compared by reference: NJsonSchema nodes are mutable and do not define equality.
    readonly Dictionary<JsonSchema, Regex> _patterns = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<JsonSchema, PropertyPatterns> _propertyPatterns = new(ReferenceEqualityComparer.Instance);
    readonly JsonSchema _schema;
    readonly int _maxSteps;

    CompiledSchema(JsonSchema schema, SchemaOptions options)
    {
        _schema = schema;
        _maxSteps = options.MaxValidationSteps;
        Collect(schema, options.PatternMatchTimeout, new HashSet<JsonSchema>(ReferenceEqualityComparer.Instance));
    }

    /// <summary>Takes over the patterns of a freshly parsed schema, which must not be used on its own afterwards.</summary>
    /// <exception cref="ArgumentException">A pattern is not a regular expression.</exception>
    public static CompiledSchema Create(JsonSchema schema, SchemaOptions options) => new(schema, options);

    /// <summary>Validates a JSON document.</summary>
    /// <exception cref="SchemaBudgetExceededException">The validation would take more than its budget.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ICollection<ValidationError> Validate(string json, CancellationToken cancellationToken)
    {
        // Dates stay strings, as JSON has them; the value was checked as JSON before it gets here.
        using var reader = new JsonTextReader(new StringReader(json)) { DateParseHandling = DateParseHandling.None, MaxDepth = null };
        var token = JToken.ReadFrom(reader);
        var validator = new BudgetedValidator(this, cancellationToken);
        try
        {
            return validator.Validate(token, _schema);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new SchemaBudgetExceededException("a 'pattern' takes longer to match than Keel:Schemas:PatternMatchTimeout allows");
        }
        catch (InvalidOperationException)
        {
            // NJsonSchema's answer to a $ref cycle that never reaches a schema (#/a refers to #/b, which refers to #/a).
            throw new SchemaBudgetExceededException("its references go round in a circle");
        }
    }

    void Collect(JsonSchema? schema, TimeSpan matchTimeout, HashSet<JsonSchema> seen)
    {
        if (schema is null || !seen.Add(schema))
        {
            return;
        }

        if (!string.IsNullOrEmpty(schema.Pattern))
        {
            _patterns[schema] = CreateRegex(schema.Pattern, matchTimeout);
            schema.Pattern = null;
        }

        if (schema.PatternProperties.Count > 0)
        {
            // The additional-properties rule depends on which properties the patterns match, so it moves along with them.
            _propertyPatterns[schema] = new PropertyPatterns(
                [.. schema.PatternProperties.Select(p => (CreateRegex(p.Key, matchTimeout), (JsonSchema)p.Value))],
                schema.AllowAdditionalProperties,
                schema.AdditionalPropertiesSchema);
            foreach (var child in schema.PatternProperties.Values)
            {
                Collect(child, matchTimeout, seen);
            }

            schema.PatternProperties.Clear();
            schema.AdditionalPropertiesSchema = null;
            schema.AllowAdditionalProperties = true;
        }

        foreach (var child in schema.Properties.Values)
        {
            Collect(child, matchTimeout, seen);
        }

        foreach (var child in schema.Items.Concat(schema.AllOf).Concat(schema.AnyOf).Concat(schema.OneOf).Concat(schema.Definitions.Values))
        {
            Collect(child, matchTimeout, seen);
        }

        Collect(schema.Item, matchTimeout, seen);
        Collect(schema.AdditionalItemsSchema, matchTimeout, seen);
        Collect(schema.AdditionalPropertiesSchema, matchTimeout, seen);
        Collect(schema.Not, matchTimeout, seen);
        Collect(schema.Reference, matchTimeout, seen);
        if (_propertyPatterns.TryGetValue(schema, out var moved))
        {
            Collect(moved.AdditionalSchema, matchTimeout, seen);
        }
    }

    static Regex CreateRegex(string pattern, TimeSpan matchTimeout)
    {
        try
        {
            return new Regex(pattern, RegexOptions.NonBacktracking, matchTimeout);
        }
        catch (NotSupportedException)
        {
            // Lookarounds, backreferences and atomic groups need backtracking; so does a pattern whose automaton would be too large.
            return new Regex(pattern, RegexOptions.None, matchTimeout);
        }
    }

    /// <summary>A schema's <c>patternProperties</c>, and its additional-properties rule, which depends on them.</summary>
    sealed record PropertyPatterns((Regex Pattern, JsonSchema Schema)[] Patterns, bool AllowAdditional, JsonSchema? AdditionalSchema);

    /// <summary>One validation: NJsonSchema's, with the keywords Keel took over checked at every schema it visits.</summary>
    sealed class BudgetedValidator(CompiledSchema compiled, CancellationToken cancellationToken) : JsonSchemaValidator(Settings)
    {
        static readonly JsonSchemaValidatorSettings Settings = new();

        int _steps;

        protected override ICollection<ValidationError> Validate(JToken token, JsonSchema schema, SchemaType schemaType, string? propertyName, string propertyPath)
        {
            if (++_steps > compiled._maxSteps)
            {
                throw new SchemaBudgetExceededException($"it takes more than {compiled._maxSteps} steps (Keel:Schemas:MaxValidationSteps)");
            }

            if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
            {
                throw new SchemaBudgetExceededException("it refers to itself more deeply than Keel can follow");
            }

            cancellationToken.ThrowIfCancellationRequested();
            var errors = base.Validate(token, schema, schemaType, propertyName, propertyPath);
            if (compiled._patterns.TryGetValue(schema, out var pattern) && token.Type == JTokenType.String && !pattern.IsMatch(token.Value<string>()!))
            {
                errors.Add(new ValidationError(ValidationErrorKind.PatternMismatch, propertyName, propertyPath, token, schema));
            }

            if (compiled._propertyPatterns.TryGetValue(schema, out var rule) && token is JObject value)
            {
                ValidatePropertyPatterns(value, schema, rule, schemaType, propertyPath, errors);
            }

            return errors;
        }

        /// <summary>
        /// Every property whose name a pattern matches validates against that pattern's schema; the others that
        /// <c>properties</c> does not name are additional properties.
        /// </summary>
        void ValidatePropertyPatterns(JObject value, JsonSchema schema, PropertyPatterns rule, SchemaType schemaType, string propertyPath, ICollection<ValidationError> errors)
        {
            foreach (var property in value.Properties())
            {
                var matched = false;
                foreach (var (pattern, child) in rule.Patterns)
                {
                    if (pattern.IsMatch(property.Name))
                    {
                        matched = true;
                        AddChildErrors(property, child, schemaType, ValidationErrorKind.AdditionalPropertiesNotValid, errors);
                    }
                }

                if (matched || schema.Properties.ContainsKey(property.Name))
                {
                    continue;
                }

                if (rule.AdditionalSchema is { } additional)
                {
                    AddChildErrors(property, additional, schemaType, ValidationErrorKind.AdditionalPropertiesNotValid, errors);
                }
                else if (!rule.AllowAdditional)
                {
                    var path = string.IsNullOrEmpty(propertyPath) ? property.Name : propertyPath + "." + property.Name;
                    errors.Add(new ValidationError(ValidationErrorKind.NoAdditionalPropertiesAllowed, property.Name, path, property, schema));
                }
            }
        }

        void AddChildErrors(JProperty property, JsonSchema child, SchemaType schemaType, ValidationErrorKind kind, ICollection<ValidationError> errors)
        {
            var childErrors = Validate(property.Value, child.ActualSchema, schemaType, null, property.Path);
            if (childErrors.Count > 0)
            {
                errors.Add(new ChildSchemaValidationError(
                    kind, property.Name, property.Path, new Dictionary<JsonSchema, ICollection<ValidationError>> { [child] = childErrors }, property.Value, child));
            }
        }
    }
}

/// <summary>A validation stopped because it would take more work than its budget allows.</summary>
sealed class SchemaBudgetExceededException(string reason) : Exception("The value cannot be validated within the schema budget: " + reason + ".")
{
    /// <summary>Why, as a clause: "it takes more than 100000 steps".</summary>
    public string Reason { get; } = reason;
}
