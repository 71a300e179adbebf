// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Client.Flags;
using Keel.Flags;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Flags;

/// <summary>The .NET client's in-process evaluation and the server's OFREP answers agree, for the same definitions and contexts.</summary>
public class ClientAgreementTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task EveryFlag_ForEveryContext_EvaluatesTheSameInProcessAsOverOfrep()
    {
        var service = Service();
        await (await fixture.Client.PostAsync($"/api/v1/flags/{service}/prod/import", Json(AgreementTable.File), Ct)).OkJsonAsync();
        using var ofrep = await fixture.Server.CreateEvaluationClientAsync(service, "prod");
        using var client = new KeelFlagClient(new KeelFlagOptions().Connect(fixture.Server.BaseAddress, TestTokens.Admin).Select(service, "prod"));
        Assert.True(await client.RefreshAsync(Ct));

        foreach (var key in client.Keys.Append("absent"))
        {
            foreach (var context in AgreementTable.Contexts)
            {
                var local = client.Evaluate(key, context);
                var body = await AgreementTable.EvaluateOverOfrepAsync(ofrep, key, context);
                var label = $"{key} for {JsonSerializer.Serialize(context)}";
                if (local.Reason == FlagReasons.Error)
                {
                    Assert.True(body.GetProperty("errorCode").GetString() == local.ErrorCode, label);
                    continue;
                }

                Assert.True(body.GetProperty("reason").GetString() == local.Reason, label);
                Assert.True((body.TryGetProperty("variant", out var v) ? v.GetString() : null) == local.Variant, label);
                Assert.True(
                    body.TryGetProperty("value", out var value) ? local.Value?.ToJson() == value.GetRawText().Replace(" ", "", StringComparison.Ordinal) : local.Value is null,
                    $"{label}: {body}");
            }
        }
    }

    [Fact]
    public async Task Refresh_FetchesOnlyWhenTheFlagsChanged()
    {
        var service = Service();
        await fixture.Client.PutAsync($"/api/v1/flags/{service}/dev/f", Json("""{"state": "ENABLED", "variants": {"a": 1, "b": 2}, "defaultVariant": "a"}"""), Ct);
        using var client = new KeelFlagClient(new KeelFlagOptions().Connect(fixture.Server.BaseAddress, TestTokens.Admin).Select(service, "dev"));

        var first = await client.RefreshAsync(Ct);
        var unchanged = await client.RefreshAsync(Ct);
        var before = client.Evaluate("f").Value!.Value.Number;
        await fixture.Client.PutAsync($"/api/v1/flags/{service}/dev/f", Json("""{"state": "ENABLED", "variants": {"a": 1, "b": 2}, "defaultVariant": "b"}"""), Ct);
        var changed = await client.RefreshAsync(Ct);

        Assert.Equal((true, false, true), (first, unchanged, changed));
        Assert.Equal((1.0, 2.0), (before, client.Evaluate("f").Value!.Value.Number));
    }
}
