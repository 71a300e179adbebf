// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;
using Keel.Server.Caching;
using Keel.Server.Tests.Infrastructure;

namespace Keel.Server.Tests.Storage;

/// <summary>Every part of the storage backend reaches the server's services, so that no store contract goes unregistered.</summary>
public sealed class StoreCompositionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public void EveryPartOfTheBackend_IsRegistered_AsTheBackendsOwnPart_ButConfigsBehindTheCache()
    {
        var backend = fixture.Server.GetRequiredService<IKeelStore>();
        var parts = typeof(IKeelStore).GetProperties();

        Assert.NotEmpty(parts);
        Assert.All(parts, part =>
        {
            var registered = fixture.Server.Services.GetService(part.PropertyType);
            Assert.NotNull(registered);
            if (part.PropertyType == typeof(IConfigStore))
            {
                Assert.IsType<CachingConfigStore>(registered);
            }
            else
            {
                Assert.Same(part.GetValue(backend), registered);
            }
        });
    }
}
