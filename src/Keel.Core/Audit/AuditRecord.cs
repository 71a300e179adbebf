// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Audit;

/// <summary>One mutation, as the audit trail keeps it. It never holds a value.</summary>
public sealed class AuditRecord
{
    /// <summary>The record's id; later records have larger ids.</summary>
    public required long Id { get; init; }

    /// <summary>When the mutation committed.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The id of the token that made it; <see langword="null"/> for Keel itself.</summary>
    public string? ActorTokenId { get; init; }

    /// <summary>The name of the token that made it.</summary>
    public required string ActorName { get; init; }

    /// <summary>The address the request came from.</summary>
    public string? ClientAddress { get; init; }

    /// <summary>What was done, one of <see cref="WireNames.AuditActions"/>.</summary>
    public required string Action { get; init; }

    /// <summary>The service of a configuration change.</summary>
    public string? ServiceName { get; init; }

    /// <summary>The environment of a configuration change.</summary>
    public string? Environment { get; init; }

    /// <summary>What was changed: a key, a token id, an encryption key id.</summary>
    public required string Target { get; init; }

    /// <summary>The version before the change, when there was one.</summary>
    public long? FromVersion { get; init; }

    /// <summary>The version the change created.</summary>
    public long? ToVersion { get; init; }

    /// <summary>The store revision of a configuration change.</summary>
    public long? Revision { get; init; }

    /// <summary>The request's id.</summary>
    public string? RequestId { get; init; }
}

/// <summary>Which audit records to read: every filter given must hold.</summary>
public sealed record AuditQuery
{
    /// <summary>Only changes to this service.</summary>
    public string? ServiceName { get; init; }

    /// <summary>Only changes to this environment.</summary>
    public string? Environment { get; init; }

    /// <summary>Only records whose actor token id or name is this.</summary>
    public string? Actor { get; init; }

    /// <summary>Only this action.</summary>
    public string? Action { get; init; }

    /// <summary>Only records at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only records before this time.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Only records older than this id (the paging cursor).</summary>
    public long? BeforeId { get; init; }

    /// <summary>The most records to return, at least 1.</summary>
    public int Limit { get; init; } = 100;
}
