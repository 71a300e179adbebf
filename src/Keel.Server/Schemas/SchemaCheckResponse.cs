// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Schemas;

sealed record SchemaCheckResponse(string ServiceName, string KeyPattern, int Checked, int SkippedEncrypted, IReadOnlyList<SchemaViolationItem> Violations);

sealed record SchemaViolationItem(string Environment, string ConfigKey, IReadOnlyList<Core.FieldError> Errors);
