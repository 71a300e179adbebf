// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;

namespace Keel.Storage.Relational.Configs;

/// <summary>
/// A backend's write engine: how it records a change to configuration, with its version, revision, audit record, feed row and
/// outbox deliveries, in one transaction. Each backend writes in its own shape; reads are shared.
/// </summary>
interface IConfigWriter
{
    Task<ConfigChange> SetAsync(SetConfigRequest request, CancellationToken cancellationToken);

    Task<ConfigChange> DeleteAsync(DeleteConfigRequest request, CancellationToken cancellationToken);

    Task<ConfigChange> RollbackAsync(RollbackConfigRequest request, CancellationToken cancellationToken);

    Task<ChangeSetResult> ApplyChangeSetAsync(ChangeSetRequest request, CancellationToken cancellationToken);
}
