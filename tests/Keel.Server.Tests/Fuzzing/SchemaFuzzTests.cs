// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;
using CsCheck;
using Keel.Core;
using Keel.Server.Schemas;
using Keel.Tests.Fuzzing;
using Microsoft.Extensions.Options;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Fuzzing;

/// <summary>
/// The JSON Schema parser, fed generated and mutated schema documents: each compiles or is refused as an invalid value, and
/// what compiles judges a set of values (through <see cref="SchemaValidator.CompileAsync"/>, as the schema endpoints do) or stops at its budget, never with another exception.
/// </summary>
public sealed class SchemaFuzzTests
{
    /// <summary>Generated schema documents per run, on every CI build.</summary>
    const int Iterations = 2000;

    static readonly string[] Seeds =
    [
        """{"type": "object", "properties": {"port": {"type": "integer", "minimum": 1, "maximum": 65535}}, "required": ["port"]}""",
        """{"type": "string", "pattern": "^[a-z]+(-[a-z]+)*$", "minLength": 1, "maxLength": 63, "format": "hostname"}""",
        """{"definitions": {"node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/node"}}}}, "$ref": "#/definitions/node"}""",
        """{"anyOf": [{"type": "number", "multipleOf": 0.5}, {"enum": ["on", "off", null]}], "not": {"const": 3}}""",
        """{"type": "array", "items": {"oneOf": [{"type": "boolean"}, {"type": "object", "additionalProperties": false}]}, "uniqueItems": true}""",
    ];

    static readonly string[] Values = ["1", "\"text\"", "true", "null", "[1, [2, {\"a\": 3}]]", "{\"port\": 8080, \"next\": {\"next\": {}}}", "2.5"];

    readonly SchemaValidator _validator = new(null!, Options.Create(new SchemaOptions()));

    [Fact]
    public async Task SchemaDocuments_CompileOrAreRefused_AndWhatCompilesJudgesWithinItsBudget()
    {
        FuzzInput.Replay("schemas", document => CheckAsync(document).GetAwaiter().GetResult());
        await FuzzInput.TextAndMutationsOf(Seeds).SampleAsync(CheckAsync, iter: Iterations);
    }

    async Task CheckAsync(string text)
    {
        // As the server reads a body: UTF-8 bytes, in which an unpaired surrogate has become U+FFFD.
        var document = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));
        CompiledSchema schema;
        try
        {
            schema = await _validator.CompileAsync(document, Ct);
        }
        catch (KeelException e) when (e.Error is KeelError.InvalidValue or KeelError.MalformedRequest)
        {
            Assert.True(e.Error == KeelError.MalformedRequest || e.FieldErrors.Count > 0, e.Message);
            return;
        }

        foreach (var value in Values)
        {
            try
            {
                schema.Validate(value, Ct);
            }
            catch (SchemaBudgetExceededException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Reason));
            }
        }
    }
}
