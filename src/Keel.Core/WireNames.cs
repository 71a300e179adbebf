// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core;

/// <summary>
/// The words Keel puts on the wire. Clients in every language match on these strings, so they never change once shipped.
/// </summary>
public static class WireNames
{
    /// <summary>Names of value types, as carried in <c>value_type</c>.</summary>
    public static class ValueTypes
    {
        /// <summary>Any text.</summary>
        public const string String = "string";

        /// <summary>A JSON number.</summary>
        public const string Number = "number";

        /// <summary><c>true</c> or <c>false</c>.</summary>
        public const string Boolean = "boolean";

        /// <summary>Any JSON document.</summary>
        public const string Json = "json";

        /// <summary>Any YAML stream.</summary>
        public const string Yaml = "yaml";
    }

    /// <summary>Names of change types, as carried in <c>change_type</c>.</summary>
    public static class ChangeTypes
    {
        /// <summary>The key came into existence (for the first time, or again after a delete).</summary>
        public const string Create = "create";

        /// <summary>A live key got a new value.</summary>
        public const string Update = "update";

        /// <summary>The key was deleted; the version is a tombstone.</summary>
        public const string Delete = "delete";

        /// <summary>The key got the value of one of its earlier versions.</summary>
        public const string Rollback = "rollback";
    }

    /// <summary>Stable error codes, carried as <c>code</c> in every problem body and as the last segment of its <c>type</c>.</summary>
    public static class ErrorCodes
    {
        /// <summary>The request body is not well-formed JSON or has fields of the wrong type.</summary>
        public const string MalformedRequest = "malformed_request";

        /// <summary>A service name, environment or key does not follow the naming rules.</summary>
        public const string InvalidName = "invalid_name";

        /// <summary>A request field is missing or out of range.</summary>
        public const string InvalidRequest = "invalid_request";

        /// <summary>A value does not parse as its value type.</summary>
        public const string InvalidValue = "invalid_value";

        /// <summary>The configuration key does not exist or is deleted.</summary>
        public const string ConfigNotFound = "config_not_found";

        /// <summary>The requested version of a key does not exist.</summary>
        public const string VersionNotFound = "version_not_found";

        /// <summary>An <c>If-Match</c> or <c>If-None-Match</c> condition does not hold.</summary>
        public const string PreconditionFailed = "precondition_failed";

        /// <summary>A rollback targets a version that records a delete.</summary>
        public const string RollbackToTombstone = "rollback_to_tombstone";

        /// <summary>The value or the request body is larger than the configured limit.</summary>
        public const string PayloadTooLarge = "payload_too_large";

        /// <summary>The request body has a content type the endpoint does not accept.</summary>
        public const string UnsupportedMediaType = "unsupported_media_type";

        /// <summary>No endpoint answers at this path.</summary>
        public const string RouteNotFound = "route_not_found";

        /// <summary>The endpoint exists but not for this HTTP method.</summary>
        public const string MethodNotAllowed = "method_not_allowed";

        /// <summary>The store cannot be reached.</summary>
        public const string StoreUnavailable = "store_unavailable";

        /// <summary>The server failed; the problem body carries a trace id to report.</summary>
        public const string InternalError = "internal_error";

        /// <summary>The request carries no token, or one that is unknown, expired or revoked.</summary>
        public const string Unauthorized = "unauthorized";

        /// <summary>The token lacks a permission, or its scopes do not cover the service and environment.</summary>
        public const string Forbidden = "forbidden";

        /// <summary>No active token has the id.</summary>
        public const string TokenNotFound = "token_not_found";

        /// <summary>A stored ciphertext failed authentication or names a key the server does not hold.</summary>
        public const string DecryptionFailed = "decryption_failed";

        /// <summary>An encrypted key was written with <c>encrypt: false</c>.</summary>
        public const string EncryptionRequired = "encryption_required";

        /// <summary>A key rotation is already running.</summary>
        public const string RotationInProgress = "rotation_in_progress";

        /// <summary>The master key's source no longer holds a usable key.</summary>
        public const string MasterKeyUnreadable = "master_key_unreadable";

        /// <summary>The token or client address has used up its request rate.</summary>
        public const string RateLimited = "rate_limited";

        /// <summary>No webhook subscription has the id.</summary>
        public const string SubscriptionNotFound = "subscription_not_found";

        /// <summary>The subscription has no delivery with the id.</summary>
        public const string DeliveryNotFound = "delivery_not_found";

        /// <summary>A redelivery was asked for a delivery that is still pending.</summary>
        public const string DeliveryPending = "delivery_pending";

        /// <summary>The requested revision is older than the change feed retains; re-read the snapshot.</summary>
        public const string RevisionCompacted = "revision_compacted";

        /// <summary>The requested revision is newer than the store's; re-read the snapshot.</summary>
        public const string RevisionAhead = "revision_ahead";

        /// <summary>The server holds as many watch streams as it is configured to; retry later.</summary>
        public const string TooManyWatchers = "too_many_watchers";

        /// <summary>The token or the client address holds as many watch streams and long-polls as one may; end one or retry later.</summary>
        public const string WatcherQuotaExceeded = "watcher_quota_exceeded";

        /// <summary>One or more keys of a batch are not at the version the writer expected; nothing was written.</summary>
        public const string VersionConflict = "version_conflict";

        /// <summary>Keys changed while an import was being planned, again and again; nothing was written.</summary>
        public const string ConcurrentChange = "concurrent_change";

        /// <summary>A value does not validate against the JSON Schema of its key.</summary>
        public const string SchemaViolation = "schema_violation";

        /// <summary>No schema has the service and key pattern.</summary>
        public const string SchemaNotFound = "schema_not_found";

        /// <summary>A value cannot be validated against its schema within the work a validation may take; nothing was written.</summary>
        public const string SchemaTooComplex = "schema_too_complex";

        /// <summary>An import file does not parse, or holds keys or values Keel cannot store; nothing was written.</summary>
        public const string InvalidFile = "invalid_file";

        /// <summary>The backend has no online backup of its own (PostgreSQL: use pg_dump).</summary>
        public const string BackupNotSupported = "backup_not_supported";

        /// <summary>No flag has the service, environment and key.</summary>
        public const string FlagNotFound = "flag_not_found";

        /// <summary>The server is answering as many large listings and exports as it may at once; retry shortly.</summary>
        public const string ServerBusy = "server_busy";

        /// <summary>A whole-document answer (a flagd file) is larger than Keel:Limits:MaxAnswerBytes; nothing was sent.</summary>
        public const string AnswerTooLarge = "answer_too_large";
    }

    /// <summary>Token permissions.</summary>
    public static class Permissions
    {
        /// <summary>Read configuration.</summary>
        public const string Read = "read";

        /// <summary>Change configuration.</summary>
        public const string Write = "write";

        /// <summary>See encrypted values in plaintext.</summary>
        public const string SecretsRead = "secrets:read";

        /// <summary>Manage tokens, audit, keys; implies the others.</summary>
        public const string Admin = "admin";
    }

    /// <summary>Token kinds.</summary>
    public static class TokenKinds
    {
        /// <summary>An API token with permissions and scopes.</summary>
        public const string Api = "api";

        /// <summary>An OFREP evaluation token for one service and environment.</summary>
        public const string Evaluation = "evaluation";
    }

    /// <summary>Audit record actions.</summary>
    public static class AuditActions
    {
        /// <summary>A key was created.</summary>
        public const string ConfigCreate = "config.create";

        /// <summary>A key was updated.</summary>
        public const string ConfigUpdate = "config.update";

        /// <summary>A key was deleted.</summary>
        public const string ConfigDelete = "config.delete";

        /// <summary>A key was rolled back.</summary>
        public const string ConfigRollback = "config.rollback";

        /// <summary>A token was created.</summary>
        public const string TokenCreate = "token.create";

        /// <summary>A token was revoked.</summary>
        public const string TokenRevoke = "token.revoke";

        /// <summary>A new encryption key was made active and values re-encrypted with it.</summary>
        public const string KeyRotate = "key.rotate";

        /// <summary>The master key was read again and every data key wrapped under it.</summary>
        public const string KeyRewrap = "key.rewrap";

        /// <summary>A webhook subscription was created.</summary>
        public const string SubscriptionCreate = "subscription.create";

        /// <summary>A webhook subscription was deleted.</summary>
        public const string SubscriptionDelete = "subscription.delete";

        /// <summary>A webhook delivery was made pending again.</summary>
        public const string DeliveryRedeliver = "delivery.redeliver";

        /// <summary>A JSON Schema was created or replaced.</summary>
        public const string SchemaPut = "schema.put";

        /// <summary>A JSON Schema was deleted.</summary>
        public const string SchemaDelete = "schema.delete";
    }

    /// <summary>Webhook delivery states, as carried in <c>status</c>.</summary>
    public static class DeliveryStatuses
    {
        /// <summary>Not yet delivered.</summary>
        public const string Pending = "pending";

        /// <summary>The receiver answered 2xx.</summary>
        public const string Delivered = "delivered";

        /// <summary>Every attempt failed.</summary>
        public const string Dead = "dead";
    }

    /// <summary>Names of pushed events.</summary>
    public static class Events
    {
        /// <summary>A configuration change: the SSE event type and the webhook body's <c>event_type</c>.</summary>
        public const string ConfigChange = "config_change";

        /// <summary>A flag change: the webhook body's <c>event_type</c> for a subscription of kind <c>flag</c>.</summary>
        public const string FlagChange = "flag_change";
    }
}
