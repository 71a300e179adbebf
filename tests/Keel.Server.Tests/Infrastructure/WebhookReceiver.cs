// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Keel.Server.Tests.Infrastructure;

/// <summary>What a receiver was sent.</summary>
public sealed record ReceivedWebhook(string DeliveryId, string? Signature, string? Attempt, string Body, DateTimeOffset At)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// A real HTTP webhook receiver on a loopback port. <see cref="Respond"/> decides each answer (status, or a task to wait on
/// before answering); every request is recorded, answered or not.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    readonly SemaphoreSlim _arrived = new(0);

    WebhookReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>Answers a request, given how many came before it; 200 by default.</summary>
    public Func<ReceivedWebhook, int, Task<int>> Respond { get; set; } = static (_, _) => Task.FromResult(200);

    public IReadOnlyList<ReceivedWebhook> Received => [.. _received];

    public static async Task<WebhookReceiver> StartAsync(string path = "/hooks/keel")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost(path, async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var request = context.Request.Headers;
            var received = new ReceivedWebhook(
                request["X-Keel-Delivery"].ToString(), request["X-Keel-Signature"], request["X-Keel-Attempt"], body, DateTimeOffset.UtcNow);
            var index = receiver._received.Count;
            receiver._received.Enqueue(received);
            receiver._arrived.Release();
            context.Response.StatusCode = await receiver.Respond(received, index);
        });
        await app.StartAsync(Http.Ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.Url = new Uri(new Uri(address), path);
        return receiver;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests have arrived in all.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Http.Ct);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(20));
        while (_received.Count < count)
        {
            await _arrived.WaitAsync(cts.Token);
        }

        return Received;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _arrived.Dispose();
    }
}
