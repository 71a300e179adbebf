// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Config;

/// <summary>The logger category of changes to configuration, flags and schemas, so that one filter shows every change.</summary>
sealed class ConfigChangeLog;
