// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;

namespace Keel.Server.Schemas;

sealed record SchemaListResponse(string ServiceName, IReadOnlyList<SchemaListItem> Schemas);

sealed record SchemaListItem(string KeyPattern, JsonElement Schema, long Version, DateTime UpdatedAt);
