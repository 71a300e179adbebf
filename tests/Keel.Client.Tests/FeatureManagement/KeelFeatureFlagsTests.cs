// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Text;
using System.Text.Json;
using Keel.Client.FeatureManagement;
using Keel.Client.Flags;
using Keel.Server.Tests.Flags;
using Keel.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using static Keel.Client.Tests.Infrastructure.ClientHarness;
using TestHttp = Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Client.Tests.FeatureManagement;

/// <summary>Keel's flags behind Microsoft.FeatureManagement, held to the server's OFREP answers.</summary>
public sealed class KeelFeatureFlagsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task IsEnabledAndGetVariant_AgreeWithOfrep_ForEveryFlagAndContext_GivenOrAmbient()
    {
        var service = TestHttp.Service();
        using (var import = await fixture.Client.PostAsync($"/api/v1/flags/{service}/prod/import", TestHttp.Json(AgreementTable.File), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, import.StatusCode);
        }

        using var ofrep = await fixture.Server.CreateEvaluationClientAsync(service, "prod");
        await using var services = await BuildAsync(service);
        var features = services.GetRequiredService<IVariantFeatureManager>();
        var ambient = services.GetRequiredService<Ambient>();
        var keys = services.GetRequiredService<KeelFlagClient>().Keys.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(8, keys.Count);

        foreach (var key in keys.Append("absent"))
        {
            foreach (var context in AgreementTable.Contexts)
            {
                var remote = await AgreementTable.EvaluateOverOfrepAsync(ofrep, key, context);
                var label = $"{key} for {JsonSerializer.Serialize(context)}: {remote}";
                var variant = remote.TryGetProperty("errorCode", out _) || !remote.TryGetProperty("variant", out var v) ? null : v.GetString();
                var value = variant is null ? (JsonElement?)null : remote.GetProperty("value");
                var enabled = value is { ValueKind: JsonValueKind.True or JsonValueKind.False } b ? b.GetBoolean() : variant is not null;

                ambient.Set(context);
                var targeting = Targeting(context);
                Assert.True(enabled == await features.IsEnabledAsync(key, targeting, Ct), "given: " + label);
                Assert.True(enabled == await features.IsEnabledAsync(key, Ct), "ambient: " + label);
                foreach (var assigned in new[] { await features.GetVariantAsync(key, targeting, Ct), await features.GetVariantAsync(key, Ct) })
                {
                    Assert.True(variant == assigned?.Name, "variant: " + label);
                    if (value is { } expected)
                    {
                        Assert.Equal(Flatten(expected), assigned!.Configuration.AsEnumerable(makePathsRelative: true).Where(p => p.Value is not null).OrderBy(p => p.Key, StringComparer.Ordinal));
                    }
                }
            }
        }
    }

    [Fact]
    public async Task AChangedFlag_ReachesIsEnabled_AndTheFeatureNamesAreTheFlags()
    {
        var service = TestHttp.Service();
        await fixture.Client.PutFlagAsync(service, "checkout-v2", """{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}""");
        await using var services = await BuildAsync(service);
        var features = services.GetRequiredService<IFeatureManager>();
        Assert.False(await features.IsEnabledAsync("checkout-v2"));
        Assert.Equal(["checkout-v2"], await features.GetFeatureNamesAsync().ToListAsync(Ct));

        await fixture.Client.PutFlagAsync(service, "checkout-v2", """{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}""");
        await EventuallyAsync(() => features.IsEnabledAsync("checkout-v2").GetAwaiter().GetResult(), "the change to reach the feature manager");
        Assert.False(await features.IsEnabledAsync("unknown"));
    }

    [Fact]
    public async Task AVariantThatConfigurationCannotHold_IsItsJsonText_AndTheFeatureStillAnswers()
    {
        var service = TestHttp.Service();
        await fixture.Client.PutFlagAsync(service, "palette", """{"state": "ENABLED", "variants": {"a": {"Color": 1, "color": 2}}, "defaultVariant": "a"}""");
        await using var services = await BuildAsync(service);
        var features = services.GetRequiredService<IVariantFeatureManager>();

        Assert.True(await features.IsEnabledAsync("palette", Ct));
        var variant = await features.GetVariantAsync("palette", new TargetingContext { UserId = "u-1" }, Ct);
        Assert.Equal("a", variant?.Name);
        Assert.Equal("""{"Color":1,"color":2}""", variant!.Configuration.Value);
        Assert.Equal(["palette"], await features.GetFeatureNamesAsync(Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task AddKeelFeatureFlags_WithoutOptions_SharesTheClientAddKeelFlagsRegistered_AndWithoutOneIsRefused()
    {
        var service = TestHttp.Service();
        await fixture.Client.PutFlagAsync(service, "beta", """{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}""");
        var collection = new ServiceCollection().AddLogging();
        Assert.Throws<InvalidOperationException>(() => collection.AddFeatureManagement().AddKeelFeatureFlags());
        collection.AddKeelFlags(o => o.Connect(fixture.Server.BaseAddress, TestTokens.Admin).Select(service, "prod"));
        collection.AddFeatureManagement().AddKeelFeatureFlags();
        await using var services = collection.BuildServiceProvider();
        await services.GetRequiredService<KeelFlagClient>().StartAsync(Ct);

        Assert.Single(services.GetServices<KeelFlagClient>());
        Assert.True(await services.GetRequiredService<IFeatureManager>().IsEnabledAsync("beta"));
    }

    async Task<ServiceProvider> BuildAsync(string service)
    {
        var collection = new ServiceCollection().AddLogging().AddSingleton<Ambient>();
        collection.AddSingleton<ITargetingContextAccessor>(sp => sp.GetRequiredService<Ambient>());
        collection.AddSingleton<IKeelFlagAttributesAccessor>(sp => sp.GetRequiredService<Ambient>());
        collection.AddFeatureManagement().AddKeelFeatureFlags(o => o.Connect(fixture.Server.BaseAddress, TestTokens.Admin).Select(service, "prod"));
        var services = collection.BuildServiceProvider();
        await services.GetRequiredService<KeelFlagClient>().StartAsync(Ct);
        return services;
    }

    static TargetingContext Targeting(IReadOnlyDictionary<string, object?> context) => new()
    {
        UserId = context.GetValueOrDefault("targetingKey") as string,
        Groups = context.GetValueOrDefault("groups") as string[],
    };

    /// <summary>A value as the JSON configuration provider flattens it, relative to the value's own section.</summary>
    static IOrderedEnumerable<KeyValuePair<string, string?>> Flatten(JsonElement value)
    {
        using var json = new MemoryStream(Encoding.UTF8.GetBytes("{\"value\":" + value.GetRawText() + "}"));
        return new ConfigurationBuilder().AddJsonStream(json).Build().GetSection("value")
            .AsEnumerable(makePathsRelative: true).Where(p => p.Value is not null).OrderBy(p => p.Key, StringComparer.Ordinal);
    }

    /// <summary>The ambient targeting context and attributes: the user and groups of the current context, and the rest.</summary>
    sealed class Ambient : ITargetingContextAccessor, IKeelFlagAttributesAccessor
    {
        IReadOnlyDictionary<string, object?> _context = new Dictionary<string, object?>();

        public void Set(IReadOnlyDictionary<string, object?> context) => _context = context;

        public ValueTask<TargetingContext> GetContextAsync() => ValueTask.FromResult(Targeting(_context));

        public ValueTask<IReadOnlyDictionary<string, object?>?> GetAttributesAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyDictionary<string, object?>?>(
                _context.Where(p => p.Key is not ("targetingKey" or "groups")).ToDictionary(p => p.Key, p => p.Value));
    }
}
