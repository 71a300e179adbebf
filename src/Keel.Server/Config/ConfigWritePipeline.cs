// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Core.Storage;
using Keel.Server.Http;
using Keel.Server.Schemas;
using Microsoft.Extensions.Options;

namespace Keel.Server.Config;

/// <summary>
/// The one way a write reaches the store, for the configuration, transfer and flag APIs alike: the checks that need the store
/// (a write's precondition, then the service's schemas), the store's write, and the change log. Schemas govern configuration
/// values only; a flag's definition is checked as one before it gets here. The request's own shape is checked before, by the
/// endpoint that reads it.
/// </summary>
sealed class ConfigWritePipeline(IConfigStore store, SchemaValidator schemas, ILogger<ConfigChangeLog> logger)
{
    /// <summary>How many times an import is planned and committed before a concurrent writer makes it give up.</summary>
    public const int ImportAttempts = 4;

    /// <summary>Where a single key's value sits in its request body, as a schema violation names it.</summary>
    const string ValueLocation = "$." + ConfigValues.ValueField;

    /// <summary>Creates or updates a key or flag.</summary>
    public async Task<ConfigChange> SetAsync(SetConfigRequest request, CancellationToken cancellationToken)
    {
        var id = request.Id;
        if (HasSchemas(id.Environment))
        {
            await EnsurePreconditionAsync(id, request.Condition, cancellationToken);
            await schemas.ValidateAsync(id.ServiceName, [new SchemaCandidate(id.Key, request.Value, request.ValueType, ValueLocation)], cancellationToken);
        }

        return Logged(await store.SetAsync(request, cancellationToken));
    }

    /// <summary>Deletes a key or flag, leaving a tombstone version.</summary>
    public async Task<ConfigChange> DeleteAsync(DeleteConfigRequest request, CancellationToken cancellationToken) =>
        Logged(await store.DeleteAsync(request, cancellationToken));

    /// <summary>Gives a key or flag the value of an earlier version, as a new version.</summary>
    /// <param name="request">The rollback.</param>
    /// <param name="canReadSecrets">Whether the caller may read an encrypted target, which only then is checked against the schemas.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public async Task<ConfigChange> RollbackAsync(RollbackConfigRequest request, bool canReadSecrets, CancellationToken cancellationToken)
    {
        var id = request.Id;
        if (HasSchemas(id.Environment))
        {
            await EnsurePreconditionAsync(id, request.Condition, cancellationToken);

            // The target is immutable, so checking it before the store runs the rollback sees what the rollback writes. An
            // encrypted target is checked only for a caller who may read it: the answer (and its timing) would otherwise tell the
            // caller whether the secret matches a schema of their own making, one question per request.
            var target = request.TargetVersion;
            var targetVersion = await store.GetHistoryAsync(id, 1, target + 1, cancellationToken);
            if (targetVersion is [{ Value: { } targetValue, ValueType: { } targetType, DecryptionFailed: false } found] && found.Version == target
                && (!found.IsEncrypted || canReadSecrets))
            {
                await schemas.ValidateAsync(id.ServiceName, [new SchemaCandidate(id.Key, targetValue, targetType, "$")], cancellationToken);
            }
        }

        return Logged(await store.RollbackAsync(request, cancellationToken));
    }

    /// <summary>Writes a batch of keys as one revision, all or nothing, each checked against the schemas first.</summary>
    /// <param name="request">The batch; every item sets a key.</param>
    /// <param name="location">Where item <c>i</c> sits in the request, as a schema violation names it.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public async Task<ChangeSetResult> ApplyBatchAsync(ChangeSetRequest request, Func<int, string> location, CancellationToken cancellationToken)
    {
        if (HasSchemas(request.Environment))
        {
            await schemas.ValidateAsync(
                request.ServiceName,
                request.Items.Select((item, i) => new SchemaCandidate(item.Key, item.Value!, item.ValueType!.Value, location(i))),
                cancellationToken);
        }

        var result = await store.ApplyChangeSetAsync(request, cancellationToken);
        foreach (var change in result.Changes)
        {
            Logged(change);
        }

        return result;
    }

    /// <summary>
    /// Checks the entries of an import file against the schemas: every entry, changed or not, since the file is what the
    /// environment becomes. A dry run checks them too, so that it answers what the import would.
    /// </summary>
    public async Task ValidateImportAsync(string serviceName, string environment, IEnumerable<SchemaCandidate> entries, CancellationToken cancellationToken)
    {
        if (HasSchemas(environment))
        {
            await schemas.ValidateAsync(serviceName, entries, cancellationToken);
        }
    }

    /// <summary>Commits a planned import as one revision; its entries were checked by <see cref="ValidateImportAsync"/>.</summary>
    /// <exception cref="KeelException">Other writes changed the environment since the plan (<see cref="KeelError.ConcurrentChange"/>).</exception>
    public async Task<ChangeSetResult> ImportAsync(ChangeSetRequest request, CancellationToken cancellationToken)
    {
        var result = await store.ApplyChangeSetAsync(request, cancellationToken);
        Log.Imported(logger, request.ServiceName, request.Environment, result.Changes.Count, result.Revision ?? 0);
        return result;
    }

    /// <summary>
    /// Answers 412 for a write whose <c>If-Match</c> or <c>If-None-Match</c> the key's live version fails, before the write's
    /// content is validated: which of the two failures a caller meets must not depend on a value they may not read. The store
    /// checks the condition again in the write's transaction.
    /// </summary>
    async Task EnsurePreconditionAsync(ConfigId id, VersionCondition condition, CancellationToken cancellationToken)
    {
        if (condition.Kind == VersionConditionKind.None)
        {
            return;
        }

        var live = await store.GetAsync(id, cancellationToken);
        condition.EnsureMetBy(live?.Version);
    }

    static bool HasSchemas(string environment) => !FlagStorage.IsFlagEnvironment(environment);

    ConfigChange Logged(ConfigChange change)
    {
        Log.Changed(logger, change);
        return change;
    }
}

/// <summary>The services a write handler takes.</summary>
readonly record struct WriteServices(ConfigWritePipeline Writes, IOptions<LimitsOptions> Limits);
