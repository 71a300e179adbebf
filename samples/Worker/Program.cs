// A worker service that reads its settings and flags from Keel and reacts to their changes without a restart.
//
//   dotnet run -- --Keel:Url=http://127.0.0.1:8080/ --Keel:Token=<a token with read on billing/prod>

using Keel.Client;
using Keel.Client.Flags;
using Microsoft.Extensions.Options;

var builder = Host.CreateApplicationBuilder(args);
var keel = new Uri(builder.Configuration["Keel:Url"] ?? "http://127.0.0.1:8080/");
var token = builder.Configuration["Keel:Token"] ?? throw new InvalidOperationException("Set Keel:Token (or the environment variable Keel__Token).");
var service = builder.Configuration["Keel:Service"] ?? "billing";
var environment = builder.Configuration["Keel:Environment"] ?? "prod";

// optional: true starts the worker even while Keel cannot be reached; the defaults below apply until it can.
builder.Configuration.AddKeel(o => o.Connect(keel, token).Select(service, environment), optional: true);
builder.Services.AddKeel();
builder.Services.AddKeelFlags(o => o.Connect(keel, token).Select(service, environment));
builder.Services.AddOptions<BillingOptions>().BindConfiguration("billing");
builder.Services.AddHostedService<BillingWorker>();
builder.Build().Run();

/// <summary>The billing settings, bound from the keys <c>billing.*</c>.</summary>
public sealed class BillingOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    public int BatchSize { get; set; } = 100;
}

/// <summary>Runs a billing pass every <see cref="BillingOptions.Interval"/>, reading the settings and flags afresh each time.</summary>
public sealed partial class BillingWorker(IOptionsMonitor<BillingOptions> options, KeelFlagClient flags, ILogger<BillingWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = options.OnChange(o => LogOptionsChanged(logger, o.BatchSize, o.Interval));
        flags.Changed += (_, e) => LogFlagsChanged(logger, string.Join(", ", e.Added.Concat(e.Changed).Concat(e.Removed)), e.Revision);
        while (!stoppingToken.IsCancellationRequested)
        {
            var current = options.CurrentValue;
            var express = flags.Evaluate("express-billing").Value?.Boolean ?? false;
            LogPass(logger, current.BatchSize, express);
            await Task.Delay(current.Interval > TimeSpan.Zero ? current.Interval : TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Billing options changed: BatchSize={BatchSize}, Interval={Interval}")]
    static partial void LogOptionsChanged(ILogger logger, int batchSize, TimeSpan interval);

    [LoggerMessage(2, LogLevel.Information, "Flags changed at revision {Revision}: {Keys}")]
    static partial void LogFlagsChanged(ILogger logger, string keys, long revision);

    [LoggerMessage(3, LogLevel.Information, "Billing pass: BatchSize={BatchSize}, express={Express}")]
    static partial void LogPass(ILogger logger, int batchSize, bool express);
}
