// An ASP.NET Core service that reads its settings and feature flags from Keel.
//
//   dotnet run -- --Keel:Url=http://127.0.0.1:8080/ --Keel:Token=<a token with read on checkout/prod>
//
// Settings under checkout/prod's keys `checkout.*` bind to CheckoutOptions and follow every change;
// the flag `new-checkout` gates /checkout/v2.

using Keel.Client;
using Keel.Client.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;

var builder = WebApplication.CreateBuilder(args);
var keel = new Uri(builder.Configuration["Keel:Url"] ?? "http://127.0.0.1:8080/");
var token = builder.Configuration["Keel:Token"] ?? throw new InvalidOperationException("Set Keel:Token (or the environment variable Keel__Token).");
var service = builder.Configuration["Keel:Service"] ?? "checkout";
var environment = builder.Configuration["Keel:Environment"] ?? "prod";

builder.Configuration.AddKeel(o =>
{
    o.Connect(keel, token).Select(service, environment);
    if (builder.Configuration["Keel:CacheDirectory"] is { Length: > 0 } cache)
    {
        o.UseFileCache(cache);
    }
});

builder.Services.AddKeel();
builder.Services.AddOptions<CheckoutOptions>().BindConfiguration("checkout");
builder.Services.AddFeatureManagement().AddKeelFeatureFlags(o => o.Connect(keel, token).Select(service, environment));
builder.Services.AddControllers();

var app = builder.Build();

var logger = app.Services.GetRequiredService<ILogger<CheckoutOptions>>();
app.Services.GetRequiredService<IOptionsMonitor<CheckoutOptions>>().OnChange(o => Log.CheckoutOptionsChanged(logger, o.MaxItems, o.Currency));

app.MapGet("/checkout", (IOptionsMonitor<CheckoutOptions> options) => options.CurrentValue);
app.MapGet("/status", (IKeelConfigurationRefresher keel) => keel.Status is var s
    ? new { source = s.Source.ToString(), transport = s.Transport.ToString(), s.Revision, s.LastSuccess, lastError = s.LastError?.GetType().Name }
    : null);
app.MapHealthChecks("/health");
app.MapControllers();
app.Run();

/// <summary>The checkout settings, bound from the keys <c>checkout.*</c>.</summary>
public sealed class CheckoutOptions
{
    public int MaxItems { get; set; } = 10;

    public string Currency { get; set; } = "EUR";
}

static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Checkout options changed: MaxItems={MaxItems}, Currency={Currency}")]
    public static partial void CheckoutOptionsChanged(ILogger logger, int maxItems, string currency);
}
