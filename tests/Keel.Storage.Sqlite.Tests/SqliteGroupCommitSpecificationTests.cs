// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Storage.Specification.Tests;

namespace Keel.Storage.Sqlite.Tests;

public sealed class SqliteGroupCommitSpecificationTests(SqliteStoreFixture fixture)
    : GroupCommitSpecification<SqliteStoreFixture>(fixture);
