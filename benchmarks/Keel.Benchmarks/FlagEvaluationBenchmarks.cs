// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Keel.Flags;
using Keel.Flags.JsonLogic;

namespace Keel.Benchmarks;

// dotnet run -c Release --project benchmarks/Keel.Benchmarks -- --filter '*FlagEvaluation*' --warmupCount 3 --iterationCount 15
// AMD EPYC, 2 cores (virtual machine), .NET 10.0.12, Server GC
//
// | Method           | Mean      | Error    | StdDev   | Ratio | RatioSD | Gen0   | Allocated | Alloc Ratio |
// |----------------- |----------:|---------:|---------:|------:|--------:|-------:|----------:|------------:|
// | Static           |  21.35 ns | 0.297 ns | 0.278 ns |  1.00 |    0.02 | 0.0176 |      96 B |        1.00 |
// | UserList         | 102.15 ns | 1.844 ns | 1.725 ns |  4.78 |    0.10 | 0.0359 |     184 B |        1.92 |
// | Rollout          | 118.56 ns | 3.123 ns | 2.769 ns |  5.55 |    0.14 | 0.0479 |     248 B |        2.58 |
// | DomainAndVersion | 208.39 ns | 9.819 ns | 9.185 ns |  9.76 |    0.43 | 0.0827 |     424 B |        4.42 |

/// <summary>
/// One flag evaluation, on one thread, for flags a service typically has: no targeting, a list of users, a percentage
/// rollout, and a rule on the e-mail domain and the app version. The definitions are compiled once, as the server and the
/// SDK keep them; the context is built once, as an OFREP request's is.
/// Run: <c>dotnet run -c Release --project benchmarks/Keel.Benchmarks -- --filter *FlagEvaluation*</c>.
/// Results are in docs/benchmarks.md.
/// </summary>
[MemoryDiagnoser]
public class FlagEvaluationBenchmarks
{
    static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);

    FlagDefinition _static = null!;
    FlagDefinition _userList = null!;
    FlagDefinition _rollout = null!;
    FlagDefinition _domainAndVersion = null!;
    LogicObject _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        using var file = JsonDocument.Parse("""
            {
              "flags": {
                "static": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"},
                "user-list": {
                  "state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
                  "targeting": {"if": [{"in": [{"var": "email"}, ["ann@example.com", "bob@example.com", "eve@example.com", "joe@example.com"]]}, "on", "off"]}
                },
                "rollout": {
                  "state": "ENABLED", "variants": {"new": "new-checkout", "old": "old-checkout"}, "defaultVariant": "old",
                  "targeting": {"fractional": [["new", 20], ["old", 80]]}
                },
                "domain-and-version": {
                  "state": "ENABLED", "variants": {"beta": {"limit": 100}, "stable": {"limit": 10}}, "defaultVariant": "stable",
                  "targeting": {"if": [{"and": [{"ends_with": [{"var": "email"}, "@example.com"]}, {"sem_ver": [{"var": "app.version"}, ">=", "2.1.0"]}]}, "beta", "stable"]}
                }
              }
            }
            """);
        var flags = FlagDefinitions.ParseFile(file.RootElement).ToDictionary(f => f.Key);
        (_static, _userList, _rollout, _domainAndVersion) = (flags["static"], flags["user-list"], flags["rollout"], flags["domain-and-version"]);
        using var context = JsonDocument.Parse("""
            {"targetingKey": "user-8c1f4e2a", "email": "joe@example.com", "country": "NL", "plan": "team", "app": {"version": "2.4.1", "platform": "ios"}}
            """);
        _context = LogicObject.FromJson(context.RootElement);
    }

    [Benchmark(Baseline = true)]
    public FlagResult Static() => FlagEvaluator.Evaluate(_static, _context, Now);

    [Benchmark]
    public FlagResult UserList() => FlagEvaluator.Evaluate(_userList, _context, Now);

    [Benchmark]
    public FlagResult Rollout() => FlagEvaluator.Evaluate(_rollout, _context, Now);

    [Benchmark]
    public FlagResult DomainAndVersion() => FlagEvaluator.Evaluate(_domainAndVersion, _context, Now);
}
