// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Security;

namespace Keel.Core.Storage;

/// <summary>The durable set of API tokens. Every change is audited in its own transaction.</summary>
public interface ITokenStore
{
    /// <summary>
    /// Raised when the tokens may have been changed by another process on the same store (another node), or when the store cannot
    /// be sure it heard of every such change; holders of a copy reload it. Handlers must be quick and must not throw. A store only
    /// one process can write never raises it.
    /// </summary>
    event Action? TokensChanged;

    /// <summary>Every token ever made, revoked ones included, oldest first.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<IReadOnlyList<AccessToken>> ListTokensAsync(CancellationToken cancellationToken);

    /// <summary>Adds a token, or replaces the one with its id (clearing any revocation), with a <c>token.create</c> audit record.</summary>
    /// <param name="token">The token.</param>
    /// <param name="actor">Who makes it.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    Task SaveTokenAsync(AccessToken token, Actor actor, CancellationToken cancellationToken);

    /// <summary>Revokes a token, with a <c>token.revoke</c> audit record.</summary>
    /// <param name="id">The token's id.</param>
    /// <param name="actor">Who revokes it.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    /// <returns>The revoked token, or <see langword="null"/> when no unrevoked token has the id (nothing is recorded).</returns>
    Task<AccessToken?> RevokeTokenAsync(string id, Actor actor, CancellationToken cancellationToken);
}
