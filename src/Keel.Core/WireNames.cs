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
    }
}
