// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Storage.Specification.Tests;

namespace Keel.Storage.Sqlite.Tests;

public sealed class SqliteChangeFeedSpecificationTests(SqliteStoreFixture fixture)
    : ChangeFeedSpecification<SqliteStoreFixture>(fixture);
