// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Flags.JsonLogic;

namespace Keel.Core.Tests.Flags;

/// <summary>Every case of JsonLogic's shared compatibility suite, compiled and evaluated by Keel's engine.</summary>
public sealed class JsonLogicCompatibilityTests
{
    static readonly JsonElement[] Cases = Load();

    public static TheoryData<int, string> CaseNumbers()
    {
        var data = new TheoryData<int, string>();
        for (var i = 0; i < Cases.Length; i++)
        {
            data.Add(i, Cases[i].GetProperty("description").GetString()!);
        }

        return data;
    }

    [Fact]
    public void TheSuite_HasEveryCase()
    {
        Assert.Equal(278, Cases.Length);
    }

    [Theory]
    [MemberData(nameof(CaseNumbers))]
    public void Case_GivesTheExpectedResult(int number, string description)
    {
        var test = Cases[number];
        var data = test.TryGetProperty("data", out var d) ? LogicValue.FromJson(d) : LogicValue.Null;

        var result = LogicRule.Compile(test.GetProperty("rule")).Evaluate(data);

        Assert.True(
            LogicValue.FromJson(test.GetProperty("result")).Equals(result),
            $"{description}: expected {test.GetProperty("result").GetRawText()}, got {result.ToJson()}");
    }

    static JsonElement[] Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Flags", "TestData", "jsonlogic-compatible.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return [.. document.RootElement.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Select(e => e.Clone())];
    }
}
