// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Config;

sealed record DeleteResponse(bool Success, string Message, long Version, long Revision);
