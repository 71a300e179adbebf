// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Keel.Client.Http;

// The shapes of the server's answers the client reads; docs/api.md documents them.

/// <param name="Revision">The store revision the page was read at.</param>
/// <param name="Configs">The page's keys.</param>
/// <param name="NextCursor">The cursor of the next page, when the server's byte bound for one answer cut this one; servers before it send none.</param>
sealed record SnapshotAnswer(long Revision, IReadOnlyList<ConfigItem> Configs, string? NextCursor = null);

sealed record ConfigItem(string ConfigKey, string? ConfigValue, string ValueType, long Version, bool IsEncrypted);

/// <param name="Configs">The keys found.</param>
/// <param name="Missing">The keys that are absent.</param>
/// <param name="Deferred">Keys found but past the server's byte bound for one answer, to ask for again; servers before it send none.</param>
sealed record BatchAnswer(IReadOnlyList<ConfigItem> Configs, IReadOnlyList<string> Missing, IReadOnlyList<string>? Deferred = null);

sealed record BatchQuestion(string ServiceName, string Environment, IReadOnlyList<string> ConfigKeys);

sealed record ChangesAnswer(IReadOnlyList<ChangeItem> Changes, long Revision);

sealed record ChangeItem(long Revision, string ServiceName, string Environment, string ConfigKey, long Version, string ChangeType);

/// <summary>A last-known-good file: what it is, whose it is, and what a provider or flag client keeps in it.</summary>
sealed record CacheFile(string Format, string Kind, string Identity, DateTimeOffset WrittenAt, JsonElement Payload);

/// <summary>The configuration a provider keeps in its cache file: every selection, without encrypted values.</summary>
sealed record CachedConfiguration(IReadOnlyList<CachedSelection> Selections);

sealed record CachedSelection(string ServiceName, string Environment, string? KeyPrefix, long Revision, string? ETag, IReadOnlyList<CachedConfig> Configs);

sealed record CachedConfig(string ConfigKey, string ConfigValue, string ValueType, long Version);

/// <summary>The flags a flag client keeps in its cache file: the flag file as Keel answered it.</summary>
sealed record CachedFlags(string ServiceName, string Environment, long Revision, string? ETag, JsonElement File);

sealed record ProblemAnswer(string? Code, string? Detail, long? CurrentRevision);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SnapshotAnswer))]
[JsonSerializable(typeof(BatchAnswer))]
[JsonSerializable(typeof(BatchQuestion))]
[JsonSerializable(typeof(ChangesAnswer))]
[JsonSerializable(typeof(ChangeItem))]
[JsonSerializable(typeof(ProblemAnswer))]
[JsonSerializable(typeof(CacheFile))]
[JsonSerializable(typeof(CachedConfiguration))]
[JsonSerializable(typeof(CachedFlags))]
sealed partial class KeelWireContext : JsonSerializerContext;
