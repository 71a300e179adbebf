// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Security;
using Keel.Server.Storage;
using Microsoft.Extensions.Options;

namespace Keel.Server.Security;

/// <summary>
/// Loads the tokens and makes sure an admin can get in: <c>KEEL_ADMIN_TOKEN</c> is (re)asserted as the bootstrap admin token at
/// every start; without it, the first start generates one into <c>admin.token</c> in the data folder.
/// </summary>
sealed class SecurityStartup(
    TokenRegistry registry,
    DataDirectory dataDirectory,
    IOptions<SecurityOptions> options,
    TimeProvider timeProvider,
    ILogger<SecurityStartup> logger) : IHostedLifecycleService
{
    /// <summary>The id of the bootstrap admin token.</summary>
    public const string AdminTokenId = "admin";

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var existing = (await registry.LoadAsync(cancellationToken)).FirstOrDefault(t => t.Id == AdminTokenId);
        var supplied = options.Value.AdminToken;
        if (!string.IsNullOrEmpty(supplied))
        {
            var hash = TokenSecrets.Hash(supplied);
            if (existing is null || existing.RevokedAt is not null || !existing.SecretHash.AsSpan().SequenceEqual(hash) || existing.Permissions != Permissions.Admin)
            {
                await registry.SaveAsync(AdminToken(hash), Actor.System, cancellationToken);
            }

            Log.AdminTokenFromEnvironment(logger);
            return;
        }

        if (existing is not null)
        {
            return;
        }

        // The file first: a start that fails after writing it generates a new one next time, and never leaves a stored token
        // whose secret nobody has.
        var path = dataDirectory.PathOf(SecurityOptions.AdminTokenFileName);
        File.Delete(path);
        var (secret, secretHash) = TokenSecrets.Generate();
        SecretFile.Write(path, secret);
        await registry.SaveAsync(AdminToken(secretHash), Actor.System, cancellationToken);
        Log.AdminTokenGenerated(logger, path);
    }

    AccessToken AdminToken(byte[] hash) => new()
    {
        Id = AdminTokenId,
        Name = AdminTokenId,
        Kind = TokenKind.Api,
        Permissions = Permissions.Admin,
        Scopes = [ScopePattern.Parse("*/*")],
        SecretHash = hash,
        CreatedAt = timeProvider.GetUtcNow(),
        CreatedBy = Actor.System.Name,
    };

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
