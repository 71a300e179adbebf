// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Tests.Infrastructure;
using static Keel.Client.Tests.Infrastructure.ClientHarness;
using TestHttp = Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Client.Tests.Configuration;

/// <summary>An environment or change set larger than the server's byte bound for one answer still reaches the configuration whole.</summary>
public sealed class KeelConfigurationAnswerBoundTests(KeelConfigurationAnswerBoundTests.Fixture fixture)
    : IClassFixture<KeelConfigurationAnswerBoundTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override string[] Settings => ["Keel:Limits:MaxAnswerBytes=1024"];
    }

    [Fact]
    public async Task AnEnvironmentPastTheBound_LoadsWhole_ThroughTheListingsPages()
    {
        var service = TestHttp.Service();
        var values = Enumerable.Range(0, 5).Select(i => new string((char)('p' + i), 400)).ToList();
        for (var i = 0; i < values.Count; i++)
        {
            await fixture.Client.PutAsync(service, $"k{i}", values[i]);
        }

        using var configuration = Build(fixture.Server.BaseAddress, service);

        Assert.Equal(values, Enumerable.Range(0, 5).Select(i => configuration[$"k{i}"]));
    }

    [Fact]
    public async Task ABatchSetPastTheBound_ReachesEveryKey_ThroughTheDeferredKeys()
    {
        var service = TestHttp.Service();
        await fixture.Client.PutAsync(service, "a", "1");
        using var configuration = Build(fixture.Server.BaseAddress, service);

        // Five 400-byte values: the server carries two per batch answer and defers the rest.
        var values = Enumerable.Range(0, 5).Select(i => new string((char)('p' + i), 400)).ToList();
        using var batch = await fixture.Client.PostAsync("/api/v1/config/batch-set", TestHttp.Json(new
        {
            service_name = service,
            environment = "prod",
            configs = values.Select((v, i) => new { config_key = $"k{i}", config_value = v }).ToArray(),
        }), TestHttp.Ct);
        await batch.OkJsonAsync();

        await EventuallyAsync(() => configuration["k4"] == values[4], "the batch");
        Assert.Equal(values, Enumerable.Range(0, 5).Select(i => configuration[$"k{i}"]));
    }
}
