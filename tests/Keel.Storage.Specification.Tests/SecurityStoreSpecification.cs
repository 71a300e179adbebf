// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Configs;
using Keel.Core.Security;
using Keel.Core.Storage;

namespace Keel.Storage.Specification.Tests;

/// <summary>
/// Encryption, tokens, audit and key rotation, as every backend must store them. The fixture's store implements
/// <see cref="ITokenStore"/>, <see cref="IAuditStore"/> and <see cref="IEncryptionKeyStore"/> beside <see cref="IConfigStore"/>.
/// </summary>
public abstract partial class SecurityStoreSpecification<TFixture>(TFixture fixture) : StoreSpecification<TFixture>(fixture)
    where TFixture : class, IConfigStoreFixture
{
    protected ITokenStore Tokens => Fixture.Store.Tokens;

    protected IAuditStore Audit => Fixture.Store.Audit;

    protected IEncryptionKeyStore Keys => Fixture.Store.Keys;

    [Fact]
    public virtual async Task Set_Encrypted_ReadsBackThePlaintextMarkedEncrypted()
    {
        var id = Id();
        var change = await Store.SetAsync(Set(id, "s3cret", encrypt: true), Ct);

        var entry = (await Store.GetAsync(id, Ct))!;
        Assert.Equal("s3cret", entry.Value);
        Assert.True(entry.IsEncrypted);
        Assert.False(entry.DecryptionFailed);
        Assert.Equal("s3cret", change.Entry!.Value);
        Assert.True(change.Entry.IsEncrypted);
        var listed = Assert.Single((await Store.ListAsync(id.ServiceName, id.Environment, Ct)).Entries);
        Assert.Equal("s3cret", listed.Value);
        var many = Assert.Single(await Store.GetManyAsync(id.ServiceName, id.Environment, [id.Key], Ct));
        Assert.Equal("s3cret", many.Value);
    }

    [Fact]
    public virtual async Task Set_WithoutEncrypt_KeepsAnEncryptedKeyEncrypted()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "one", encrypt: true), Ct);

        await Store.SetAsync(Set(id, "two"), Ct);

        var entry = (await Store.GetAsync(id, Ct))!;
        Assert.True(entry.IsEncrypted);
        Assert.Equal("two", entry.Value);
    }

    [Fact]
    public virtual async Task Set_WithEncryptFalse_IsRefusedForAnEncryptedKey()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "one", encrypt: true), Ct);

        var e = await Assert.ThrowsAsync<KeelException>(() => Store.SetAsync(Set(id, "two", encrypt: false), Ct));

        Assert.Equal(KeelError.EncryptionRequired, e.Error);
        Assert.Equal(1, (await Store.GetAsync(id, Ct))!.Version);
    }

    [Fact]
    public virtual async Task Set_Encrypted_EncryptsEveryEarlierVersion()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "plain-1"), Ct);
        await Store.SetAsync(Set(id, "plain-2"), Ct);

        await Store.SetAsync(Set(id, "secret-3", encrypt: true), Ct);

        var history = (await Store.GetHistoryAsync(id, 10, null, Ct))!;
        Assert.All(history, v => Assert.True(v.IsEncrypted));
        Assert.Equal(["secret-3", "plain-2", "plain-1"], history.Select(v => v.Value));
    }

    [Fact]
    public virtual async Task Rollback_ToAnEncryptedVersion_GivesAnEncryptedVersionWithItsValue()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "first", encrypt: true), Ct);
        await Store.SetAsync(Set(id, "second"), Ct);

        var change = await Store.RollbackAsync(new RollbackConfigRequest { Id = id, TargetVersion = 1, Actor = TestIdentities.Tester }, Ct);

        Assert.Equal(3, change.Version);
        var entry = (await Store.GetAsync(id, Ct))!;
        Assert.Equal("first", entry.Value);
        Assert.True(entry.IsEncrypted);
    }

    [Fact]
    public virtual async Task Changes_AppendExactlyOneAuditRecordEach_WithActorAndVersions()
    {
        var id = Id();
        var actor = new Actor("tok-audit", "auditor", "10.1.2.3", "req-42");
        await Store.SetAsync(Set(id, "a", actor: actor), Ct);
        await Store.SetAsync(Set(id, "b", actor: actor), Ct);
        await Store.RollbackAsync(new RollbackConfigRequest { Id = id, TargetVersion = 1, Actor = actor }, Ct);
        await Store.DeleteAsync(new DeleteConfigRequest { Id = id, Actor = actor }, Ct);

        var records = await Audit.QueryAuditAsync(new AuditQuery { ServiceName = id.ServiceName }, Ct);

        Assert.Equal(
            [WireNames.AuditActions.ConfigDelete, WireNames.AuditActions.ConfigRollback, WireNames.AuditActions.ConfigUpdate, WireNames.AuditActions.ConfigCreate],
            records.Select(r => r.Action));
        Assert.Equal([3L, 2, 1, null], records.Select(r => r.FromVersion));
        Assert.Equal([4L, 3, 2, 1], records.Select(r => r.ToVersion));
        Assert.All(records, r =>
        {
            Assert.Equal("tok-audit", r.ActorTokenId);
            Assert.Equal("auditor", r.ActorName);
            Assert.Equal("10.1.2.3", r.ClientAddress);
            Assert.Equal("req-42", r.RequestId);
            Assert.Equal(id.Environment, r.Environment);
            Assert.Equal(id.Key, r.Target);
            Assert.NotNull(r.Revision);
        });
        Assert.True(records.Zip(records.Skip(1)).All(p => p.First.Id > p.Second.Id));
    }

    [Fact]
    public virtual async Task FailedChanges_AppendNoAuditRecord()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);

        await Assert.ThrowsAsync<KeelException>(() => Store.SetAsync(Set(id, "b") with { Condition = VersionCondition.IsVersion(7) }, Ct));
        await Assert.ThrowsAsync<KeelException>(() => Store.RollbackAsync(new RollbackConfigRequest { Id = id, TargetVersion = 9, Actor = TestIdentities.Tester }, Ct));

        Assert.Single(await Audit.QueryAuditAsync(new AuditQuery { ServiceName = id.ServiceName }, Ct));
    }

    [Fact]
    public virtual async Task QueryAudit_FiltersAndPagesNewestFirst()
    {
        var service = Service();
        var alice = new Actor("tok-alice-" + service, "alice-" + service);
        for (var i = 0; i < 5; i++)
        {
            await Store.SetAsync(Set(new ConfigId(service, "dev", $"k{i}"), "v", actor: i % 2 == 0 ? alice : TestIdentities.Tester), Ct);
        }

        await Store.SetAsync(Set(new ConfigId(service, "prod", "k"), "v", actor: alice), Ct);

        var byAlice = await Audit.QueryAuditAsync(new AuditQuery { Actor = alice.Name }, Ct);
        Assert.Equal(4, byAlice.Count);
        Assert.Equal(byAlice, await Audit.QueryAuditAsync(new AuditQuery { Actor = alice.TokenId }, Ct), new AuditIdComparer());

        var dev = await Audit.QueryAuditAsync(new AuditQuery { ServiceName = service, Environment = "dev", Limit = 2 }, Ct);
        Assert.Equal(["k4", "k3"], dev.Select(r => r.Target));
        var next = await Audit.QueryAuditAsync(new AuditQuery { ServiceName = service, Environment = "dev", Limit = 2, BeforeId = dev[^1].Id }, Ct);
        Assert.Equal(["k2", "k1"], next.Select(r => r.Target));

        var creates = await Audit.QueryAuditAsync(new AuditQuery { ServiceName = service, Action = WireNames.AuditActions.ConfigCreate }, Ct);
        Assert.Equal(6, creates.Count);

        var now = Fixture.Time.GetUtcNow();
        Assert.Empty(await Audit.QueryAuditAsync(new AuditQuery { ServiceName = service, Since = now.AddSeconds(1) }, Ct));
        Assert.Equal(6, (await Audit.QueryAuditAsync(new AuditQuery { ServiceName = service, Until = now.AddSeconds(1) }, Ct)).Count);
    }

    [Fact]
    public virtual async Task Tokens_SaveListAndRevoke_EachAudited()
    {
        var token = NewToken(Service());
        await Tokens.SaveTokenAsync(token, TestIdentities.Tester, Ct);

        var listed = Assert.Single((await Tokens.ListTokensAsync(Ct)).Where(t => t.Id == token.Id));
        Assert.Equal(token.Name, listed.Name);
        Assert.Equal(Permissions.Read | Permissions.SecretsRead, listed.Permissions);
        Assert.Equal(["svc-*/dev", "*/staging"], listed.Scopes.Select(s => s.Text));
        Assert.Equal(token.SecretHash, listed.SecretHash);
        Assert.Equal(token.ExpiresAt, listed.ExpiresAt);
        Assert.Null(listed.RevokedAt);
        Assert.Null(listed.ClientCertificateSha256);

        var bound = new AccessToken
        {
            Id = token.Id + "-bound",
            Name = token.Name,
            Permissions = Permissions.Read,
            Scopes = token.Scopes,
            SecretHash = TokenSecrets.Generate().Hash,
            CreatedAt = token.CreatedAt,
            CreatedBy = token.CreatedBy,
            ClientCertificateSha256 = new string('c', 64),
        };
        await Tokens.SaveTokenAsync(bound, TestIdentities.Tester, Ct);
        Assert.Equal(bound.ClientCertificateSha256, Assert.Single((await Tokens.ListTokensAsync(Ct)).Where(t => t.Id == bound.Id)).ClientCertificateSha256);

        var revoked = await Tokens.RevokeTokenAsync(token.Id, TestIdentities.Tester, Ct);
        Assert.NotNull(revoked?.RevokedAt);
        Assert.Null(await Tokens.RevokeTokenAsync(token.Id, TestIdentities.Tester, Ct));
        Assert.NotNull(Assert.Single((await Tokens.ListTokensAsync(Ct)).Where(t => t.Id == token.Id)).RevokedAt);

        var audit = await Audit.QueryAuditAsync(new AuditQuery { Actor = TestIdentities.Tester.Name }, Ct);
        Assert.Equal(
            [WireNames.AuditActions.TokenRevoke, WireNames.AuditActions.TokenCreate],
            audit.Where(r => r.Target == token.Id).Select(r => r.Action));
    }

    [Fact]
    public virtual async Task MasterKeyRotation_WrapsEveryDataKeyAgain_AndTheOldMasterKeyNoLongerOpens()
    {
        var id = new ConfigId(Service(), "prod", "secret");
        await Store.SetAsync(Set(id, "before", encrypt: true), Ct);
        await Keys.RotateEncryptionKeyAsync(TestIdentities.Tester, Ct);
        await Store.SetAsync(Set(id, "after", encrypt: true), Ct);
        try
        {
            await Fixture.ReopenWithAsync(new RotatedMasterKey(TestIdentities.NextMasterKey, TestIdentities.MasterKey));

            Assert.All(await Keys.ListEncryptionKeysAsync(Ct), k => Assert.Equal(TestIdentities.NextMasterKey.Id, k.KeyEncryptionKeyId));
            Assert.Equal(["after", "before"], (await Store.GetHistoryAsync(id, 10, null, Ct))!.Select(v => v.Value));

            // Done once: the new master key alone opens the store, and a second start with both changes nothing.
            await Fixture.ReopenWithAsync(TestIdentities.NextMasterKey);
            Assert.Equal("after", (await Store.GetAsync(id, Ct))!.Value);
            await Fixture.ReopenWithAsync(new RotatedMasterKey(TestIdentities.NextMasterKey, TestIdentities.MasterKey));
            Assert.Equal("after", (await Store.GetAsync(id, Ct))!.Value);
            var stale = await Assert.ThrowsAsync<InvalidOperationException>(() => Fixture.OpenAnotherWithAsync(TestIdentities.MasterKey));
            Assert.Contains("PreviousMasterKeys", stale.Message, StringComparison.Ordinal);
        }
        finally
        {
            // Back under the fixture's own master key, for the tests that follow.
            await Fixture.ReopenWithAsync(new RotatedMasterKey(TestIdentities.MasterKey, TestIdentities.NextMasterKey));
        }
    }

    [Fact]
    public virtual async Task MasterKeyRewrap_ReadsTheNewMasterKeyOnline_AndWrapsEveryDataKeyUnderIt_WhileWritesGoOn()
    {
        var service = Service();
        var ids = Enumerable.Range(0, 8).Select(i => new ConfigId(service, "prod", $"secret-{i}")).ToList();
        foreach (var id in ids)
        {
            await Store.SetAsync(Set(id, "v1-" + id.Key, encrypt: true), Ct);
        }

        var master = new ReplaceableMasterKey(TestIdentities.MasterKey);
        try
        {
            await Fixture.ReopenWithAsync(master);
            var unchanged = await Keys.RewrapDataKeysAsync(TestIdentities.Tester, Ct);
            Assert.Equal(TestIdentities.MasterKey.Id, unchanged.MasterKeyId);
            Assert.Null(unchanged.ReplacedMasterKeyId);
            Assert.Empty(unchanged.RewrappedKeyIds);

            // Writes of encrypted values go on while the new master key takes over.
            master.ReplaceAtSource(TestIdentities.NextMasterKey);
            using var stop = new CancellationTokenSource();
            var firstWrite = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var writer = Task.Run(async () =>
            {
                var n = 0;
                while (!stop.IsCancellationRequested)
                {
                    await Store.SetAsync(Set(ids[n % ids.Count], $"w{n}", encrypt: true), Ct);
                    firstWrite.TrySetResult();
                    n++;
                }

                return n;
            }, Ct);
            await firstWrite.Task.WaitAsync(Ct);
            var result = await Keys.RewrapDataKeysAsync(TestIdentities.Tester, Ct);
            await stop.CancelAsync();
            var written = await writer;

            Assert.Equal(TestIdentities.NextMasterKey.Id, result.MasterKeyId);
            Assert.Equal(TestIdentities.MasterKey.Id, result.ReplacedMasterKeyId);
            var keys = await Keys.ListEncryptionKeysAsync(Ct);
            Assert.Equal(keys.Select(k => k.Id).Order(), result.RewrappedKeyIds);
            Assert.All(keys, k => Assert.Equal(TestIdentities.NextMasterKey.Id, k.KeyEncryptionKeyId));

            // A data key made afterwards is wrapped by the new master key too, and the audit trail names the rewrap.
            await Keys.RotateEncryptionKeyAsync(TestIdentities.Tester, Ct);
            Assert.All(await Keys.ListEncryptionKeysAsync(Ct), k => Assert.Equal(TestIdentities.NextMasterKey.Id, k.KeyEncryptionKeyId));
            var rewraps = await Audit.QueryAuditAsync(new AuditQuery { Action = WireNames.AuditActions.KeyRewrap, Limit = 2 }, Ct);
            Assert.Equal([TestIdentities.NextMasterKey.Id, TestIdentities.MasterKey.Id], rewraps.Select(r => r.Target));

            // The new master key alone now opens the store, and every value and version reads.
            await Fixture.ReopenWithAsync(TestIdentities.NextMasterKey);
            for (var i = 0; i < ids.Count; i++)
            {
                var history = (await Store.GetHistoryAsync(ids[i], 1000, null, Ct))!;
                Assert.All(history, v => Assert.False(v.DecryptionFailed));
                Assert.Equal("v1-" + ids[i].Key, history[^1].Value);
                Assert.Equal(written > i ? $"w{written - 1 - ((written - 1 - i) % ids.Count)}" : "v1-" + ids[i].Key, history[0].Value);
            }
        }
        finally
        {
            await Fixture.ReopenWithAsync(new RotatedMasterKey(TestIdentities.MasterKey, TestIdentities.NextMasterKey));
        }
    }

    [Fact]
    public virtual async Task MasterKeyRewrap_AnotherNodeReadsItsMasterKeyAgain_WhenItMeetsADataKeyWrappedByTheNewOne()
    {
        var id = new ConfigId(Service(), "prod", "secret");
        var master = new ReplaceableMasterKey(TestIdentities.MasterKey);
        var otherMaster = new ReplaceableMasterKey(TestIdentities.MasterKey);
        try
        {
            await Fixture.ReopenWithAsync(master);
            var other = await Fixture.OpenAnotherWithAsync(otherMaster);
            await Store.SetAsync(Set(id, "before", encrypt: true), Ct);
            Assert.Equal("before", (await other.Configs.GetAsync(id, Ct))!.Value);

            // The other node's source still holds the old key: a data key it cannot unwrap leaves its ring as it was.
            master.ReplaceAtSource(TestIdentities.NextMasterKey);
            await Keys.RewrapDataKeysAsync(TestIdentities.Tester, Ct);
            await Keys.RotateEncryptionKeyAsync(TestIdentities.Tester, Ct);
            await Store.SetAsync(Set(id, "after", encrypt: true), Ct);
            Assert.True((await other.Configs.GetAsync(id, Ct))!.DecryptionFailed);

            // Once its source holds the new key too, the next data key it meets makes it read the key again.
            otherMaster.ReplaceAtSource(TestIdentities.NextMasterKey);
            var read = (await other.Configs.GetAsync(id, Ct))!;
            Assert.False(read.DecryptionFailed);
            Assert.Equal("after", read.Value);
            Assert.Equal(TestIdentities.NextMasterKey.Id, otherMaster.Id);
        }
        finally
        {
            await Fixture.ReopenWithAsync(new RotatedMasterKey(TestIdentities.MasterKey, TestIdentities.NextMasterKey));
        }
    }

    [Fact]
    public virtual async Task RotateEncryptionKey_ReencryptsEveryValueAndVersion_AndRetiresTheOldKey()
    {
        var service = Service();
        var ids = Enumerable.Range(0, 300).Select(i => new ConfigId(service, "prod", $"secret-{i}")).ToList();
        foreach (var id in ids)
        {
            await Store.SetAsync(Set(id, "v1-" + id.Key, encrypt: true), Ct);
        }

        await Store.SetAsync(Set(ids[0], "v2-" + ids[0].Key), Ct);
        var before = (await Keys.ListEncryptionKeysAsync(Ct)).Single(k => k.IsActive).Id;

        var result = await Keys.RotateEncryptionKeyAsync(TestIdentities.Tester, Ct);

        Assert.NotEqual(before, result.ActiveKeyId);
        Assert.True(result.ReencryptedValues >= 300);
        Assert.True(result.ReencryptedVersions >= 301);
        Assert.Contains(before, result.RetiredKeyIds);
        Assert.Equal(0, result.UndecryptableCount);
        Assert.Equal(result.ActiveKeyId, Assert.Single(await Keys.ListEncryptionKeysAsync(Ct)).Id);
        foreach (var id in ids)
        {
            var entry = (await Store.GetAsync(id, Ct))!;
            Assert.False(entry.DecryptionFailed);
            Assert.Equal((id == ids[0] ? "v2-" : "v1-") + id.Key, entry.Value);
        }

        var history = (await Store.GetHistoryAsync(ids[0], 10, null, Ct))!;
        Assert.Equal(["v2-" + ids[0].Key, "v1-" + ids[0].Key], history.Select(v => v.Value));
        var rotate = Assert.Single(await Audit.QueryAuditAsync(new AuditQuery { Action = WireNames.AuditActions.KeyRotate, Limit = 1 }, Ct));
        Assert.Equal(before, rotate.FromVersion);
        Assert.Equal(result.ActiveKeyId, rotate.ToVersion);
    }

    [Fact]
    public virtual async Task RotateEncryptionKey_KeepsReadsAndWritesWorking_WhileItRuns()
    {
        var service = Service();
        var ids = Enumerable.Range(0, 1000).Select(i => new ConfigId(service, "prod", $"k{i}")).ToList();
        foreach (var id in ids)
        {
            await Store.SetAsync(Set(id, "v-" + id.Key, encrypt: true), Ct);
        }

        // On its own thread: a backend whose I/O completes synchronously would otherwise finish before the loop begins.
        var rotation = Task.Run(() => Keys.RotateEncryptionKeyAsync(TestIdentities.Tester, Ct), Ct);
        var failures = 0;
        var writes = 0;
        while (!rotation.IsCompleted)
        {
            var id = ids[Random.Shared.Next(ids.Count)];
            var entry = await Store.GetAsync(id, Ct);
            if (entry is null || entry.DecryptionFailed || !entry.Value.EndsWith("-" + id.Key, StringComparison.Ordinal))
            {
                failures++;
            }

            await Store.SetAsync(Set(id, "w-" + id.Key), Ct);
            writes++;
        }

        var result = await rotation;
        Assert.Equal(0, failures);
        Assert.True(writes > 0, "No write ran while the rotation did.");
        Assert.Equal(0, result.UndecryptableCount);
        foreach (var id in ids)
        {
            var entry = (await Store.GetAsync(id, Ct))!;
            Assert.False(entry.DecryptionFailed);
            Assert.True(entry.IsEncrypted);
        }

        Assert.Empty((await Keys.ListEncryptionKeysAsync(Ct)).Where(k => !k.IsActive));
    }

    [Fact]
    public virtual async Task Reopen_ReadsEncryptedValuesWithTheSameMasterKey()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "kept", encrypt: true), Ct);

        await Fixture.ReopenAsync();

        Assert.Equal("kept", (await Store.GetAsync(id, Ct))!.Value);
    }

    protected AccessToken NewToken(string name) => new()
    {
        Id = "tok-" + name,
        Name = name,
        Kind = TokenKind.Api,
        Permissions = Permissions.Read | Permissions.SecretsRead,
        Scopes = [ScopePattern.Parse("svc-*/dev"), ScopePattern.Parse("*/staging")],
        SecretHash = TokenSecrets.Generate().Hash,
        CreatedAt = Fixture.Time.GetUtcNow(),
        CreatedBy = "tester",
        ExpiresAt = Fixture.Time.GetUtcNow().AddDays(30),
    };

    protected static SetConfigRequest Set(ConfigId id, string value, bool? encrypt = null, Actor? actor = null) => new()
    {
        Id = id,
        Value = value,
        ValueType = ConfigValueType.String,
        Actor = actor ?? TestIdentities.Tester,
        Encrypt = encrypt,
    };

    sealed class AuditIdComparer : IEqualityComparer<AuditRecord>
    {
        public bool Equals(AuditRecord? x, AuditRecord? y) => x?.Id == y?.Id;

        public int GetHashCode(AuditRecord obj) => obj.Id.GetHashCode();
    }

    [Fact]
    public virtual async Task ChangeSet_EncryptsWhatItAsks_KeepsEncryptedKeysEncrypted_AndAuditsEachKey()
    {
        var service = Service();
        var secret = new ConfigId(service, "dev", "secret");
        await Store.SetAsync(new SetConfigRequest { Id = secret, Value = "s1", ValueType = ConfigValueType.String, Actor = TestIdentities.Tester, Encrypt = true }, Ct);

        var result = await Store.ApplyChangeSetAsync(
            new ChangeSetRequest
            {
                ServiceName = service,
                Environment = "dev",
                Actor = TestIdentities.Tester,
                Items = [ChangeSetItem.Set("secret", "s2"), ChangeSetItem.Set("new-secret", "n1", encrypt: true), ChangeSetItem.Set("plain", "p")],
            },
            Ct);
        var refused = await Assert.ThrowsAsync<KeelException>(() => Store.ApplyChangeSetAsync(
            new ChangeSetRequest
            {
                ServiceName = service,
                Environment = "dev",
                Actor = TestIdentities.Tester,
                Items = [ChangeSetItem.Set("plain", "q"), ChangeSetItem.Set("secret", "s3", encrypt: false)],
            },
            Ct));

        Assert.Equal([true, true, false], result.Changes.Select(c => c.Entry!.IsEncrypted));
        Assert.Equal(("s2", true), ((await Store.GetAsync(secret, Ct))!.Value, (await Store.GetAsync(secret, Ct))!.IsEncrypted));
        Assert.Equal("n1", (await Store.GetAsync(secret with { Key = "new-secret" }, Ct))!.Value);
        Assert.Equal(KeelError.EncryptionRequired, refused.Error);
        Assert.Equal("p", (await Store.GetAsync(secret with { Key = "plain" }, Ct))!.Value);
        var records = await Audit.QueryAuditAsync(new AuditQuery { ServiceName = service }, Ct);
        Assert.Equal(
            [(WireNames.AuditActions.ConfigCreate, "plain"), (WireNames.AuditActions.ConfigCreate, "new-secret"), (WireNames.AuditActions.ConfigUpdate, "secret")],
            records.Take(3).Select(r => (r.Action, r.Target)));
        Assert.All(records.Take(3), r => Assert.Equal(result.Revision, r.Revision));
    }
}
