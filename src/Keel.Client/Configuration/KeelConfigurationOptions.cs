// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Keel.Client.Configuration;

/// <summary>What a Keel configuration provider reads, from where, and how it keeps it current.</summary>
/// <remarks>
/// Every method returns the same options so that calls chain. <see cref="Connect(Uri, string)"/> and at least one
/// <see cref="Select"/> are required; anything else has a default.
/// </remarks>
public sealed class KeelConfigurationOptions
{
    readonly List<KeelSelection> _selections = [];
    readonly List<string> _trimmedPrefixes = [];

    internal Uri? Endpoint { get; private set; }

    internal Func<CancellationToken, ValueTask<string>>? TokenProvider { get; private set; }

    internal IReadOnlyList<KeelSelection> Selections => _selections;

    internal IReadOnlyList<string> TrimmedPrefixes => _trimmedPrefixes;

    internal KeelRefreshOptions Refresh { get; } = new();

    internal KeelStartupOptions Startup { get; } = new();

    internal string? CacheDirectory { get; private set; }

    internal bool SecretsRequired { get; private set; }

    internal ILoggerFactory? LoggerFactory { get; private set; }

    internal TimeProvider Time { get; private set; } = TimeProvider.System;

    internal Func<HttpMessageHandler>? HandlerFactory { get; private set; }

    /// <summary>Reads from the Keel server at <paramref name="endpoint"/> with an API token that has <c>read</c> on the selections.</summary>
    /// <param name="endpoint">The server's base address, such as <c>http://keel.internal:8080/</c>.</param>
    /// <param name="token">The API token.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">The address is not absolute http(s), or the token is empty.</exception>
    public KeelConfigurationOptions Connect(Uri endpoint, string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        return Connect(endpoint, _ => ValueTask.FromResult(token));
    }

    /// <summary>
    /// Reads from the Keel server at <paramref name="endpoint"/>, asking <paramref name="tokenProvider"/> for the API token
    /// before every request, so that a rotated token is picked up without a restart.
    /// </summary>
    /// <param name="endpoint">The server's base address, such as <c>http://keel.internal:8080/</c>.</param>
    /// <param name="tokenProvider">Returns the API token; it should cache it, as it is called for every request.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">The address is not absolute http(s).</exception>
    public KeelConfigurationOptions Connect(Uri endpoint, Func<CancellationToken, ValueTask<string>> tokenProvider)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(tokenProvider);
        if (!endpoint.IsAbsoluteUri || endpoint.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"The Keel endpoint '{endpoint}' is not an absolute http or https address.", nameof(endpoint));
        }

        Endpoint = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
        TokenProvider = tokenProvider;
        return this;
    }

    /// <summary>
    /// Reads the keys of <paramref name="serviceName"/> in <paramref name="environment"/>, or only those starting with
    /// <paramref name="keyPrefix"/>. Selections may repeat; where two give the same configuration key, the later one wins.
    /// </summary>
    /// <param name="serviceName">The service.</param>
    /// <param name="environment">The environment.</param>
    /// <param name="keyPrefix">When given, only keys that start with it (ordinal, case-sensitive).</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">A name is empty or not a valid Keel service or environment name.</exception>
    public KeelConfigurationOptions Select(string serviceName, string environment, string? keyPrefix = null)
    {
        _selections.Add(KeelSelection.Create(serviceName, environment, keyPrefix));
        return this;
    }

    /// <summary>
    /// Takes <paramref name="prefix"/> off the start of the Keel keys that have it before they are mapped to configuration
    /// keys: with <c>TrimKeyPrefix("app.")</c>, <c>app.db.url</c> is read as <c>db:url</c>. When several prefixes match, the
    /// longest is trimmed.
    /// </summary>
    /// <param name="prefix">The prefix, in Keel's spelling (with dots).</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">The prefix is empty.</exception>
    public KeelConfigurationOptions TrimKeyPrefix(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        _trimmedPrefixes.Add(prefix);
        return this;
    }

    /// <summary>Sets how the provider keeps its data current; see <see cref="KeelRefreshOptions"/>.</summary>
    /// <param name="configure">Changes the refresh options.</param>
    /// <returns>These options.</returns>
    public KeelConfigurationOptions ConfigureRefresh(Action<KeelRefreshOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(Refresh);
        return this;
    }

    /// <summary>Sets how the first load behaves when Keel cannot be reached; see <see cref="KeelStartupOptions"/>.</summary>
    /// <param name="configure">Changes the startup options.</param>
    /// <returns>These options.</returns>
    public KeelConfigurationOptions ConfigureStartup(Action<KeelStartupOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(Startup);
        return this;
    }

    /// <summary>
    /// Keeps a last-known-good copy of the data in <paramref name="directory"/>, used when the first load cannot reach Keel.
    /// The file is written atomically, readable by the process's user only, and never holds an encrypted value.
    /// </summary>
    /// <param name="directory">The folder; created (owner-only) when missing.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">The folder is empty.</exception>
    public KeelConfigurationOptions UseFileCache(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        CacheDirectory = Path.GetFullPath(directory);
        return this;
    }

    /// <summary>
    /// Makes an encrypted value that the token may not read (it lacks <c>secrets:read</c>) an error of the load, instead of
    /// a key left out with a warning.
    /// </summary>
    /// <returns>These options.</returns>
    public KeelConfigurationOptions RequireSecrets()
    {
        SecretsRequired = true;
        return this;
    }

    /// <summary>
    /// Logs through <paramref name="loggerFactory"/>. Without it the provider logs nothing until
    /// <c>services.AddKeel()</c> hands it the application's logger factory.
    /// </summary>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <returns>These options.</returns>
    public KeelConfigurationOptions UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        LoggerFactory = loggerFactory;
        return this;
    }

    /// <summary>Sends the provider's requests through the handler <paramref name="handlerFactory"/> makes (a proxy, client certificates).</summary>
    /// <param name="handlerFactory">Makes the handler; called once, and the provider disposes of the handler.</param>
    /// <returns>These options.</returns>
    public KeelConfigurationOptions ConfigureHttpHandler(Func<HttpMessageHandler> handlerFactory)
    {
        ArgumentNullException.ThrowIfNull(handlerFactory);
        HandlerFactory = handlerFactory;
        return this;
    }

    /// <summary>Reads time (backoff delays, intervals, timestamps in <see cref="KeelRefreshStatus"/>) from <paramref name="timeProvider"/>.</summary>
    /// <param name="timeProvider">The clock.</param>
    /// <returns>These options.</returns>
    public KeelConfigurationOptions UseTimeProvider(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        Time = timeProvider;
        return this;
    }

    internal void Validate()
    {
        if (Endpoint is null || TokenProvider is null)
        {
            throw new ArgumentException("Keel's address and token are missing: call Connect.");
        }

        if (_selections.Count == 0)
        {
            throw new ArgumentException("Nothing is selected: call Select(serviceName, environment) at least once.");
        }

        Refresh.Validate();
        Startup.Validate();
    }
}
