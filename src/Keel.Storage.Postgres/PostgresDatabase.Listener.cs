// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Storage.Relational;
using Npgsql;

namespace Keel.Storage.Postgres;

sealed partial class PostgresDatabase
{
    static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Listens for other nodes' notifications on one unpooled connection, reconnecting for as long as the store lives. Keepalives
    /// find a connection that died silently (a failover, a dropped network path), so it never waits forever.
    /// </summary>
    async Task ListenAsync(CancellationToken stopping)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(_options.ConnectionString)
        {
            Pooling = false,
            KeepAlive = 10,
            ApplicationName = "keel-listener",
        }.ConnectionString;
        var delay = _options.ListenerReconnectDelay;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var connection = new NpgsqlConnection(connectionString);
                await using (connection.ConfigureAwait(false))
                {
                    await connection.OpenAsync(stopping).ConfigureAwait(false);
                    connection.Notification += OnNotification;
                    var session = new Session(connection, null, Dialect);
                    using (var listen = session.Sql($"LISTEN {PostgresWriteTransaction.Channel};"))
                    {
                        await listen.ExecuteAsync(stopping).ConfigureAwait(false);
                    }

                    delay = _options.ListenerReconnectDelay;
                    Log.ListenerConnected(Logger, Name);

                    // Whatever was notified while nobody listened is lost: catch up on all of it.
                    var revision = await RevisionAsync(session, stopping).ConfigureAwait(false);
                    await ReloadKeyRingAsync(stopping).ConfigureAwait(false);
                    RaiseTokensChanged();
                    RaiseCommitted(revision);
                    while (true)
                    {
                        await connection.WaitAsync(stopping).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever broke the connection, the listener must outlive it: other nodes' changes reach this one only through it
                // (or the slower poll).
                Log.ListenerFailed(Logger, e, Name, delay);
                await Task.Delay(delay, Time, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = delay * 2 > MaxReconnectDelay ? MaxReconnectDelay : delay * 2;
            }
        }
    }

    void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        var payload = e.Payload;
        if (payload.Length > 1 && payload[0] == 'r' && long.TryParse(payload.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var revision))
        {
            RaiseCommitted(revision);
        }
        else if (payload == "t")
        {
            RaiseTokensChanged();
        }
        else if (payload == "k")
        {
            _ = ReloadKeyRingInBackgroundAsync();
        }
    }

    async Task ReloadKeyRingInBackgroundAsync()
    {
        try
        {
            await ReloadKeyRingAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or Keel.Core.Storage.StoreUnavailableException)
        {
            // The next notification, reconnect or stale-key retry reloads it again.
        }
    }
}
