// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Transfer;

namespace Keel.Server.Transfer;

sealed record ImportResponse(bool DryRun, long? Revision, IReadOnlyList<string> Added, IReadOnlyList<string> Changed, IReadOnlyList<string> Removed, int Unchanged)
{
    public static ImportResponse From(ImportPlan plan, bool dryRun, long? revision) =>
        new(dryRun, revision, plan.Added, plan.Changed, plan.Removed, plan.Unchanged);
}
