// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;

namespace Keel.Core.Storage;

/// <summary>Reads the audit trail, which every store mutation appends to in its own transaction.</summary>
public interface IAuditStore
{
    /// <summary>The records that match <paramref name="query"/>, newest first.</summary>
    /// <param name="query">The filters, cursor and page size.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<IReadOnlyList<AuditRecord>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken);
}
