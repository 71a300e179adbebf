// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core;

/// <summary>
/// The failures Keel reports to its callers. The server maps each one to an HTTP status and a stable error code in one place.
/// </summary>
public enum KeelError
{
    /// <summary>The request body is not well-formed or has fields of the wrong type.</summary>
    MalformedRequest,

    /// <summary>A service name, environment or key does not follow the naming rules.</summary>
    InvalidName,

    /// <summary>A request field is missing or out of range.</summary>
    InvalidRequest,

    /// <summary>A value does not parse as its value type.</summary>
    InvalidValue,

    /// <summary>The configuration key does not exist or is deleted.</summary>
    ConfigNotFound,

    /// <summary>The requested version of a key does not exist.</summary>
    VersionNotFound,

    /// <summary>A version condition (<c>If-Match</c>, <c>If-None-Match</c>) does not hold.</summary>
    PreconditionFailed,

    /// <summary>A rollback targets a version that records a delete.</summary>
    RollbackToTombstone,

    /// <summary>A value or request body exceeds a configured limit.</summary>
    PayloadTooLarge,

    /// <summary>The request body has a content type the endpoint does not accept.</summary>
    UnsupportedMediaType,

    /// <summary>The store cannot serve requests right now; nothing was changed.</summary>
    StoreUnavailable,

    /// <summary>The request carries no token, or one that is unknown, expired or revoked.</summary>
    Unauthorized,

    /// <summary>The token lacks the permission the endpoint requires.</summary>
    Forbidden,

    /// <summary>The token's scopes do not cover the service and environment.</summary>
    OutOfScope,

    /// <summary>No active token has the id.</summary>
    TokenNotFound,

    /// <summary>A stored ciphertext failed authentication or names a key the server does not hold.</summary>
    DecryptionFailed,

    /// <summary>An encrypted key was written with <c>encrypt: false</c>.</summary>
    EncryptionRequired,

    /// <summary>A key rotation is already running.</summary>
    RotationInProgress,

    /// <summary>The token or client address has used up its request rate.</summary>
    RateLimited,

    /// <summary>No webhook subscription has the id.</summary>
    SubscriptionNotFound,

    /// <summary>The subscription has no delivery with the id.</summary>
    DeliveryNotFound,

    /// <summary>A redelivery was asked for a delivery that is still pending.</summary>
    DeliveryPending,

    /// <summary>A change feed reader asked from a revision older than the feed retains.</summary>
    RevisionCompacted,

    /// <summary>A change feed reader asked from a revision the store has not reached.</summary>
    RevisionAhead,

    /// <summary>The server holds as many watch streams as it is configured to.</summary>
    TooManyWatchers,

    /// <summary>The token or the client address holds as many watch streams and long-polls as one may.</summary>
    WatcherQuotaExceeded,

    /// <summary>One or more keys of a change set are not at the version the writer expected.</summary>
    VersionConflict,

    /// <summary>Keys of the service and environment changed while an import was being planned.</summary>
    ConcurrentChange,

    /// <summary>A value does not validate against the JSON Schema that applies to its key.</summary>
    SchemaViolation,

    /// <summary>No schema has the service and key pattern.</summary>
    SchemaNotFound,

    /// <summary>A value cannot be validated against its schema within the work a validation may take.</summary>
    SchemaTooComplex,

    /// <summary>An import file does not parse, or holds keys or values Keel cannot store.</summary>
    InvalidFile,

    /// <summary>The backend has no online backup of its own; its database's tools back it up.</summary>
    BackupNotSupported,

    /// <summary>No flag has the service, environment and key.</summary>
    FlagNotFound,

    /// <summary>The server is answering as many large reads as it may at once; the same request may succeed in a moment.</summary>
    ServerBusy,

    /// <summary>An answer that is one document (a flagd file) would be larger than the server's answer bound.</summary>
    AnswerTooLarge,

    /// <summary>The master key's source (its key file) no longer holds a usable key; the server keeps the key it has.</summary>
    MasterKeyUnreadable,
}
