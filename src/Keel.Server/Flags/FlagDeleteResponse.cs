// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Flags;

/// <summary>A deleted flag.</summary>
sealed record FlagDeleteResponse(bool Deleted, string Message, long Version, long Revision);
