// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Audit;

sealed record AuditResponse(IReadOnlyList<AuditRecordResponse> Records, string? NextCursor);
