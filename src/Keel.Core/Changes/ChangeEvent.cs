// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;

namespace Keel.Core.Changes;

/// <summary>
/// One committed change as the change feed reports it: which key, which version, what kind of change, at which revision. It
/// never carries the value, so that a watcher reads only the values its token may see.
/// </summary>
/// <param name="Revision">The store revision the change was committed at; several changes of one change set can share it.</param>
/// <param name="Id">The key.</param>
/// <param name="Version">The version the change created.</param>
/// <param name="ChangeType">What the change was.</param>
/// <param name="Timestamp">When the change was committed.</param>
public sealed record ChangeEvent(long Revision, ConfigId Id, long Version, ChangeType ChangeType, DateTimeOffset Timestamp);
