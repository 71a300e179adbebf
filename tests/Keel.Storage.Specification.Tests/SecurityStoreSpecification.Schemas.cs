// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Configs;
using Keel.Core.Storage;

namespace Keel.Storage.Specification.Tests;

/// <summary>Schemas, versioned and audited, and search over encrypted keys, as every backend must store and answer them.</summary>
public abstract partial class SecurityStoreSpecification<TFixture>
{
    protected ISchemaStore Schemas => Fixture.Store.Schemas;

    [Fact]
    public virtual async Task Schema_PutReplaceAndDelete_AreVersioned_ListedByPattern_AndAudited()
    {
        var service = Service();
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));

        var first = await Schemas.PutSchemaAsync(service, "db.port", """{"type":"integer"}""", TestIdentities.Tester, Ct);
        var second = await Schemas.PutSchemaAsync(service, "db.port", """{"type":"integer","minimum":1}""", TestIdentities.Tester, Ct);
        await Schemas.PutSchemaAsync(service, "db.*", """{"type":"string"}""", TestIdentities.Tester, Ct);
        await Schemas.PutSchemaAsync(service + "-other", "db.port", "true", TestIdentities.Tester, Ct);
        var listed = await Schemas.ListSchemasAsync(service, Ct);
        await Schemas.DeleteSchemaAsync(service, "db.*", TestIdentities.Tester, Ct);
        var afterDelete = await Schemas.ListSchemasAsync(service, Ct);

        Assert.Equal((1L, 2L), (first.Version, second.Version));
        Assert.Equal((service, "db.port", TestIdentities.Tester.Name), (second.ServiceName, second.KeyPattern, second.UpdatedBy));
        Assert.Equal(
            [("db.*", """{"type":"string"}""", 1L), ("db.port", """{"type":"integer","minimum":1}""", 2L)],
            listed.Select(s => (s.KeyPattern, s.Schema, s.Version)));
        Assert.Equal(second.UpdatedAt, listed[1].UpdatedAt);
        Assert.Equal(["db.port"], afterDelete.Select(s => s.KeyPattern));
        var audit = await Audit.QueryAuditAsync(new AuditQuery { ServiceName = service }, Ct);
        Assert.Equal(
            [
                (WireNames.AuditActions.SchemaDelete, "db.*", (long?)1, (long?)2),
                (WireNames.AuditActions.SchemaPut, "db.*", null, 1),
                (WireNames.AuditActions.SchemaPut, "db.port", 1, 2),
                (WireNames.AuditActions.SchemaPut, "db.port", null, 1),
            ],
            audit.Select(r => (r.Action, r.Target, r.FromVersion, r.ToVersion)));
        Assert.All(audit, r => Assert.Equal(TestIdentities.Tester.Name, r.ActorName));
    }

    [Fact]
    public virtual async Task Schema_DeletingOneThatDoesNotExist_IsSchemaNotFound_AndAuditsNothing()
    {
        var service = Service();
        await Schemas.PutSchemaAsync(service, "a", "{}", TestIdentities.Tester, Ct);
        await Schemas.DeleteSchemaAsync(service, "a", TestIdentities.Tester, Ct);

        var never = await Assert.ThrowsAsync<KeelException>(() => Schemas.DeleteSchemaAsync(service, "b", TestIdentities.Tester, Ct));
        var again = await Assert.ThrowsAsync<KeelException>(() => Schemas.DeleteSchemaAsync(service, "a", TestIdentities.Tester, Ct));

        Assert.Equal((KeelError.SchemaNotFound, KeelError.SchemaNotFound), (never.Error, again.Error));
        Assert.Equal(2, (await Audit.QueryAuditAsync(new AuditQuery { ServiceName = service }, Ct)).Count);
        Assert.Empty(await Schemas.ListSchemasAsync(service, Ct));
    }

    [Fact]
    public virtual async Task Schema_PutAfterADelete_ContinuesItsVersions_AndIsSeenByAnotherStoreAndAfterARestart()
    {
        var service = Service();
        await Schemas.PutSchemaAsync(service, "limits.*", "{}", TestIdentities.Tester, Ct);
        await Schemas.DeleteSchemaAsync(service, "limits.*", TestIdentities.Tester, Ct);

        var back = await Schemas.PutSchemaAsync(service, "limits.*", """{"type":"number"}""", TestIdentities.Tester, Ct);
        var other = await Fixture.OpenAnotherAsync();
        try
        {
            Assert.Equal(3, back.Version);
            var seen = Assert.Single(await other.Schemas.ListSchemasAsync(service, Ct));
            Assert.Equal(("""{"type":"number"}""", 3L), (seen.Schema, seen.Version));
        }
        finally
        {
            await other.DisposeAsync();
        }

        await Fixture.ReopenAsync();
        Assert.Equal(3, Assert.Single(await Schemas.ListSchemasAsync(service, Ct)).Version);
    }

    [Fact]
    public virtual async Task Search_ByEncryption_FindsKeysButNeverSearchesOrReturnsValues()
    {
        var service = Service();
        await Store.SetAsync(Set(new ConfigId(service, "dev", "db.password"), "needle", encrypt: true), Ct);
        await Store.SetAsync(Set(new ConfigId(service, "dev", "db.user"), "needle"), Ct);

        var encrypted = await Store.SearchAsync(new SearchQuery { ServiceName = service, IsEncrypted = true, Limit = 10 }, Ct);
        var plain = await Store.SearchAsync(new SearchQuery { ServiceName = service, IsEncrypted = false, Limit = 10 }, Ct);
        var byValue = await Store.SearchAsync(new SearchQuery { ServiceName = service, Text = "needle", Limit = 10 }, Ct);

        Assert.Equal(("db.password", true), (Assert.Single(encrypted.Results).Id.Key, encrypted.Results[0].IsEncrypted));
        Assert.Equal("db.user", Assert.Single(plain.Results).Id.Key);
        Assert.Empty(byValue.Results);
    }
}
