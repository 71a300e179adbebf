// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;
using System.Globalization;

namespace Keel.Storage.Relational;

/// <summary>One statement on a session's connection, with its parameters bound by name through the dialect.</summary>
sealed class Sql : IDisposable
{
    readonly DbCommand _command;
    readonly SqlDialect _dialect;
    readonly bool _owned;

    // Where the search for a prepared command's next parameter starts: statements bind in the same order on every use.
    int _next;

    public Sql(DbConnection connection, DbTransaction? transaction, SqlDialect dialect, string text)
    {
        _command = connection.CreateCommand();
        _command.Transaction = transaction;
        _command.CommandText = text;
        _dialect = dialect;
        _owned = true;
    }

    /// <summary>
    /// A statement on a command its connection keeps prepared, which outlives this. The command keeps its parameter objects
    /// from one use to the next, unset until bound again, so that a parameter a use forgets fails the statement instead of
    /// carrying the last use's value.
    /// </summary>
    public Sql(DbCommand prepared, DbTransaction transaction, SqlDialect dialect)
    {
        _command = prepared;
        _command.Transaction = transaction;
        foreach (DbParameter parameter in _command.Parameters)
        {
            parameter.Value = null;
        }

        _dialect = dialect;
    }

    /// <summary>Replaces the statement's text, keeping its parameters, for a statement built while its parameters are bound.</summary>
    public Sql Text(string text)
    {
        _command.CommandText = text;
        return this;
    }

    /// <summary>Binds <paramref name="value"/> to <c>@<paramref name="name"/></c>.</summary>
    public Sql With(string name, object? value)
    {
        if (!_owned && Kept(name) is { } parameter)
        {
            parameter.Value = _dialect.Value(value);
        }
        else
        {
            _command.Parameters.Add(_dialect.Parameter(name, value));
        }

        return this;
    }

    /// <summary>Binds <paramref name="value"/> when it is not <see langword="null"/>, returning whether it did.</summary>
    public bool WithOptional(string name, object? value)
    {
        if (value is null)
        {
            return false;
        }

        With(name, value);
        return true;
    }

    public async Task<List<T>> RowsAsync<T>(Func<DbDataReader, SqlDialect, T> read, CancellationToken cancellationToken, int capacity = 4)
    {
        var rows = new List<T>(capacity);
        var reader = await _command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(read(reader, _dialect));
            }
        }

        return rows;
    }

    public async Task<T?> FirstAsync<T>(Func<DbDataReader, SqlDialect, T> read, CancellationToken cancellationToken)
    {
        var rows = await RowsAsync(read, cancellationToken, 1).ConfigureAwait(false);
        return rows.Count == 0 ? default : rows[0];
    }

    public Task<int> ExecuteAsync(CancellationToken cancellationToken) => _command.ExecuteNonQueryAsync(cancellationToken);

    /// <summary>The first column of the first row as a 64-bit integer; SQLite answers every integer as one, PostgreSQL by column type.</summary>
    public async Task<long> Int64Async(CancellationToken cancellationToken) =>
        Convert.ToInt64(await _command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);

    /// <summary>The parameter <paramref name="name"/> a prepared command kept from an earlier use, if it has one.</summary>
    DbParameter? Kept(string name)
    {
        var parameters = _command.Parameters;
        for (var i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[(_next + i) % parameters.Count];
            if (parameter.ParameterName.AsSpan().TrimStart('@').SequenceEqual(name))
            {
                _next = (_next + i + 1) % parameters.Count;
                return parameter;
            }
        }

        return null;
    }

    public void Dispose()
    {
        if (_owned)
        {
            _command.Dispose();
        }
    }
}
