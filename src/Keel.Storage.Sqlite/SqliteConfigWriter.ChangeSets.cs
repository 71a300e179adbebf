// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Storage.Relational.Configs;

namespace Keel.Storage.Sqlite;

sealed partial class SqliteConfigWriter
{
    /// <summary>Every item of a change set, in one transaction and under one revision, with the items' order as their sequence.</summary>
    public Task<ChangeSetResult> ApplyChangeSetAsync(ChangeSetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return db.TransactAsync(request, static async (write, request, cancellationToken) =>
        {
            if (request.UnchangedSince is not null)
            {
                using var select = write.Sql(ConfigTable.LastChangeRevisionSql);
                var lastChange = await select.With("service_name", request.ServiceName).With("environment", request.Environment)
                    .Int64Async(cancellationToken).ConfigureAwait(false);
                ConfigWrites.CheckUnchangedSince(request, lastChange);
            }

            var ids = request.Items.Select(i => new ConfigId(request.ServiceName, request.Environment, i.Key)).ToArray();
            var current = new SqliteKeyRow?[ids.Length];
            for (var i = 0; i < ids.Length; i++)
            {
                current[i] = await SelectKeyAsync(write, ids[i], cancellationToken).ConfigureAwait(false);
            }

            var plans = ConfigWrites.PlanChangeSet(request, i => (current[i]?.LiveVersion, current[i]?.IsLiveEncrypted ?? false));
            if (plans.Length == 0)
            {
                return new ChangeSetResult { Changes = [] };
            }

            var revision = await TakeRevisionAsync(write, cancellationToken).ConfigureAwait(false);
            var changes = new ConfigChange[plans.Length];
            for (var i = 0; i < plans.Length; i++)
            {
                var item = request.Items[i];
                var plan = new ChangePlan(plans[i].ChangeType, item.Value, item.ValueType, plans[i].Encrypt, request.ChangeDescription, request.Actor);
                changes[i] = await ApplyAsync(write, ids[i], current[i], plan, revision, i, cancellationToken).ConfigureAwait(false);
            }

            return new ChangeSetResult { Revision = revision, Changes = changes };
        }, cancellationToken);
    }
}
