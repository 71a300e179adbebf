// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Reflection;
using Keel.Core;
using Keel.Server.Http;

namespace Keel.Server.Tests.Http;

public class ProblemsTests
{
    static readonly HashSet<string> WireCodes = typeof(WireNames.ErrorCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet(StringComparer.Ordinal);

    public static TheoryData<KeelError> Errors() => [.. Enum.GetValues<KeelError>()];

    [Theory]
    [MemberData(nameof(Errors))]
    public void Describe_MapsEveryKeelError_ToAnErrorStatus_ATitle_AndAWireCode(KeelError error)
    {
        var (status, title, code) = Problems.Describe(error);

        Assert.InRange(status, 400, 599);
        Assert.False(string.IsNullOrWhiteSpace(title));
        Assert.Contains(code, WireCodes);
    }

    [Theory]
    [MemberData(nameof(Errors))]
    public void Create_TypesEveryKeelError_ByItsCode(KeelError error)
    {
        var (status, title, code) = Problems.Describe(error);

        var problem = Problems.Create(error, "detail");

        Assert.Equal(status, problem.Status);
        Assert.Equal(title, problem.Title);
        Assert.Equal(Problems.TypePrefix + code, problem.Type);
        Assert.Equal(code, problem.Extensions["code"]);
    }

    [Fact]
    public void Describe_GivesEachCodeOneStatus()
    {
        var statuses = Enum.GetValues<KeelError>().Select(Problems.Describe).GroupBy(d => d.Code, StringComparer.Ordinal);

        Assert.All(statuses, group => Assert.Single(group.Select(d => d.Status).Distinct()));
    }
}
