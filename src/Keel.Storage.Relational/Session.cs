// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;

namespace Keel.Storage.Relational;

/// <summary>A connection, and the transaction on it if there is one, that statements run on.</summary>
class Session(DbConnection connection, DbTransaction? transaction, SqlDialect dialect)
{
    public DbConnection Connection { get; } = connection;

    public DbTransaction? Transaction { get; } = transaction;

    public SqlDialect Dialect { get; } = dialect;

    public virtual Sql Sql(string text) => new(Connection, Transaction, Dialect, text);
}
