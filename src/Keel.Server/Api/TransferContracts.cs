// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Core.Transfer;

namespace Keel.Server.Api;

sealed class BatchSetRequest
{
    public string? ServiceName { get; set; }

    public string? Environment { get; set; }

    public string? ChangeDescription { get; set; }

    public List<BatchSetItem?>? Configs { get; set; }
}

sealed class BatchSetItem
{
    public string? ConfigKey { get; set; }

    /// <summary>Undefined when the field is absent; a JSON null is kept as one, so the two are told apart.</summary>
    public JsonElement ConfigValue { get; set; }

    public string? ValueType { get; set; }

    public bool? Encrypt { get; set; }

    /// <summary>The version the key must be at; 0 when it must not exist.</summary>
    public long? ExpectedVersion { get; set; }
}

sealed record BatchSetResponse(string ServiceName, string Environment, long Revision, IReadOnlyList<BatchSetItemResponse> Configs);

sealed record BatchSetItemResponse(string ConfigKey, string ChangeType, long Version, long? PreviousVersion, string ValueType, bool IsEncrypted);

sealed record ImportResponse(bool DryRun, long? Revision, IReadOnlyList<string> Added, IReadOnlyList<string> Changed, IReadOnlyList<string> Removed, int Unchanged)
{
    public static ImportResponse From(ImportPlan plan, bool dryRun, long? revision) =>
        new(dryRun, revision, plan.Added, plan.Changed, plan.Removed, plan.Unchanged);
}

sealed record SchemaResponse(string ServiceName, string KeyPattern, JsonElement Schema, long Version, DateTime UpdatedAt, string UpdatedBy);

sealed record SchemaListResponse(string ServiceName, IReadOnlyList<SchemaListItem> Schemas);

sealed record SchemaListItem(string KeyPattern, JsonElement Schema, long Version, DateTime UpdatedAt);

sealed record SchemaCheckResponse(string ServiceName, string KeyPattern, int Checked, int SkippedEncrypted, IReadOnlyList<SchemaViolationItem> Violations);

sealed record SchemaViolationItem(string Environment, string ConfigKey, IReadOnlyList<Core.FieldError> Errors);

sealed record SearchResponse(IReadOnlyList<SearchResultItem> Results, string? NextCursor);

sealed record SearchResultItem(string ServiceName, string Environment, string ConfigKey, string ValueType, long Version, bool IsEncrypted, DateTime UpdatedAt);
