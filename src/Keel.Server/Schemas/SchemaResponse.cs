// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;

namespace Keel.Server.Schemas;

sealed record SchemaResponse(string ServiceName, string KeyPattern, JsonElement Schema, long Version, DateTime UpdatedAt, string UpdatedBy);
