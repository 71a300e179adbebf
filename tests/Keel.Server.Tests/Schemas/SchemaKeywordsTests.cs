// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Server.Schemas;

namespace Keel.Server.Tests.Schemas;

public sealed class SchemaKeywordsTests
{
    [Theory]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("""{"type": ["string", "null"], "minLength": 1, "maxLength": 10, "pattern": "^[a-z]+$"}""")]
    [InlineData("""{"type": "object", "required": ["host"], "properties": {"host": {"type": "string"}, "port": {"type": "integer", "minimum": 1, "exclusiveMaximum": 65536}}, "additionalProperties": false}""")]
    [InlineData("""{"type": "array", "items": [{"type": "string"}, true], "additionalItems": false, "uniqueItems": true, "minItems": 0}""")]
    [InlineData("""{"$schema": "http://json-schema.org/draft-04/schema#", "type": "number", "minimum": 0, "exclusiveMinimum": true, "multipleOf": 0.5}""")]
    [InlineData("""{"definitions": {"port": {"type": "integer"}}, "$defs": {"x": false}, "allOf": [{"$ref": "#/definitions/port"}], "not": {"const": 0}}""")]
    [InlineData("""{"dependencies": {"a": ["b"], "c": {"required": ["d"]}}, "dependentRequired": {"e": []}, "patternProperties": {"^x-": {}}}""")]
    [InlineData("""{"if": {"type": "string"}, "then": {"format": "uri"}, "else": {"enum": [1, "a", null]}, "x-vendor": {"type": "nope"}}""")]
    public void ValidSchemas_HaveNoErrors(string schema)
    {
        using var document = JsonDocument.Parse(schema);

        Assert.Empty(SchemaKeywords.Check(document.RootElement));
    }

    [Theory]
    [InlineData("""{"type": "nope"}""", "$.type")]
    [InlineData("""{"type": ["string", "string"]}""", "$.type")]
    [InlineData("""{"type": 3}""", "$.type")]
    [InlineData("""{"minLength": -1}""", "$.minLength")]
    [InlineData("""{"maxItems": 1.5}""", "$.maxItems")]
    [InlineData("""{"minimum": "0"}""", "$.minimum")]
    [InlineData("""{"multipleOf": 0}""", "$.multipleOf")]
    [InlineData("""{"required": "host"}""", "$.required")]
    [InlineData("""{"required": ["a", "a"]}""", "$.required")]
    [InlineData("""{"enum": 1}""", "$.enum")]
    [InlineData("""{"pattern": "(["}""", "$.pattern")]
    [InlineData("""{"patternProperties": {"([": {}}}""", "$.patternProperties['([']")]
    [InlineData("""{"properties": {"port": {"type": "int"}}}""", "$.properties.port.type")]
    [InlineData("""{"properties": {"a b": 5}}""", "$.properties['a b']")]
    [InlineData("""{"properties": []}""", "$.properties")]
    [InlineData("""{"items": [{"type": "string"}, {"minimum": true}]}""", "$.items[1].minimum")]
    [InlineData("""{"anyOf": []}""", "$.anyOf")]
    [InlineData("""{"allOf": [{"not": 1}]}""", "$.allOf[0].not")]
    [InlineData("""{"additionalProperties": "no"}""", "$.additionalProperties")]
    [InlineData("""{"dependencies": {"a": 1}}""", "$.dependencies.a")]
    [InlineData("""{"$ref": 1}""", "$.$ref")]
    [InlineData("""{"uniqueItems": "yes"}""", "$.uniqueItems")]
    [InlineData("""{"definitions": {"d": {"format": 7}}}""", "$.definitions.d.format")]
    public void Keywords_OfTheWrongShape_AreReportedAtTheirPath(string schema, string path)
    {
        using var document = JsonDocument.Parse(schema);

        var error = Assert.Single(SchemaKeywords.Check(document.RootElement));

        Assert.Equal(path, error.Path);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public void EveryWrongKeyword_IsReported()
    {
        using var document = JsonDocument.Parse("""{"type": "nope", "minLength": "1", "properties": {"a": {"maximum": null}}}""");

        Assert.Equal(
            ["$.type", "$.minLength", "$.properties.a.maximum"],
            SchemaKeywords.Check(document.RootElement).Select(e => e.Path));
    }
}
