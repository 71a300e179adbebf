// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Transfer;

sealed record BatchSetResponse(string ServiceName, string Environment, long Revision, IReadOnlyList<BatchSetItemResponse> Configs);

sealed record BatchSetItemResponse(string ConfigKey, string ChangeType, long Version, long? PreviousVersion, string ValueType, bool IsEncrypted);
