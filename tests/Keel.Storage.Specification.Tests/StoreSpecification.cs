// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using Keel.Core.Configs;
using Keel.Core.Storage;

namespace Keel.Storage.Specification.Tests;

/// <summary>What every specification class shares: the fixture's store, the test's cancellation, and names no other test uses.</summary>
public abstract class StoreSpecification<TFixture> : IClassFixture<TFixture>
    where TFixture : class, IConfigStoreFixture
{
    protected StoreSpecification(TFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        if (fixture.SkipReason is { } reason)
        {
            Assert.Skip(reason);
        }

        Fixture = fixture;
    }

    protected TFixture Fixture { get; }

    protected IConfigStore Store => Fixture.Store.Configs;

    protected Task<long> GetRevisionAsync() => Fixture.Store.Lifecycle.GetRevisionAsync(Ct);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected static ConfigId Id([CallerMemberName] string test = "") => new(TestNames.Service(test), "dev", "key");

    protected static string Service([CallerMemberName] string test = "") => TestNames.Service(test);

    /// <summary>Sets a string value as <see cref="TestIdentities.Tester"/>.</summary>
    protected Task<ConfigChange> PutAsync(ConfigId id, string value) => Store.SetAsync(
        new SetConfigRequest { Id = id, Value = value, ValueType = ConfigValueType.String, Actor = TestIdentities.Tester }, Ct);
}
