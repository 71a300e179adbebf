// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Storage.Specification.Tests;

namespace Keel.Storage.Postgres.Tests;

public sealed class PostgresGroupCommitSpecificationTests(PostgresStoreFixture fixture)
    : GroupCommitSpecification<PostgresStoreFixture>(fixture);
