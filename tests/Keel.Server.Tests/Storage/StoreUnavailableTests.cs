// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Storage;

public class StoreUnavailableTests
{
    [Fact]
    public async Task Writes_Answer503WithRetryAfter_WhileTheDatabaseIsLockedElsewhere_AndChangeNothing()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Storage:Sqlite:BusyTimeout=00:00:00.200");
        var path = ConfigPath(Service(), "prod", "k");
        await server.Client.PutAsync(path, new { config_value = "before" });

        await using (var blocker = new SqliteConnection($"Data Source={Path.Combine(server.DataDir, "keel.db")};Pooling=False;Default Timeout=1"))
        {
            await blocker.OpenAsync(Ct);
            using var begin = blocker.CreateCommand();
            begin.CommandText = "BEGIN IMMEDIATE;";
            await begin.ExecuteNonQueryAsync(Ct);

            var response = await server.Client.PutAsync(path, new { config_value = "blocked" });

            await response.ProblemAsync(HttpStatusCode.ServiceUnavailable, "store_unavailable");
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            Assert.Equal("before", (await (await server.Client.GetAsync(path, Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, (await server.Client.PutAsync(path, new { config_value = "after" })).StatusCode);
    }
}
