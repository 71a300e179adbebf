// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;

namespace Keel.Storage.Sqlite;

/// <summary>The JSON the store keeps in columns: a subscription's key patterns.</summary>
[JsonSerializable(typeof(IReadOnlyList<string>))]
sealed partial class SqliteJson : JsonSerializerContext;
