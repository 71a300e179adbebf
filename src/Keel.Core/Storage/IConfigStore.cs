// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;

namespace Keel.Core.Storage;

/// <summary>
/// The durable, versioned store of configuration. Every backend implements it and passes the one storage specification suite.
/// </summary>
/// <remarks>
/// <para>
/// Every committed change (create, update, delete, rollback) creates a new version of its key and takes the store's next
/// revision, a global counter. Versions are immutable; a delete is a tombstone version, and writing the key again continues
/// its version numbers. Changes to one key are serialized: N concurrent writers produce N contiguous versions.
/// </para>
/// <para>
/// A change is acknowledged (its task completes) only once it is durable. Failed conditions and missing keys are reported as
/// <see cref="KeelException"/> and change nothing.
/// </para>
/// </remarks>
public interface IConfigStore
{
    /// <summary>Reads a key's live entry.</summary>
    /// <param name="id">The key.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The entry, or <see langword="null"/> when the key is absent or deleted.</returns>
    ValueTask<ConfigEntry?> GetAsync(ConfigId id, CancellationToken cancellationToken);

    /// <summary>Reads the live entries of several keys of one service and environment.</summary>
    /// <param name="serviceName">The service.</param>
    /// <param name="environment">The environment.</param>
    /// <param name="keys">The keys; duplicates are read once.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The live entries found, in no particular order; absent and deleted keys are left out.</returns>
    Task<IReadOnlyList<ConfigEntry>> GetManyAsync(
        string serviceName, string environment, IReadOnlyCollection<string> keys, CancellationToken cancellationToken);

    /// <summary>Reads every live key of one service and environment together with the revision they were read at.</summary>
    /// <param name="serviceName">The service.</param>
    /// <param name="environment">The environment.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<ConfigSnapshot> ListAsync(string serviceName, string environment, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the live keys of one service and environment that sort after <paramref name="afterKey"/> (in Unicode code point
    /// order), together with the revision they were read at: the next page of a listing that stopped at that key.
    /// </summary>
    /// <param name="serviceName">The service.</param>
    /// <param name="environment">The environment.</param>
    /// <param name="afterKey">The last key of the page before; it need not exist.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<ConfigSnapshot> ListAfterAsync(string serviceName, string environment, string afterKey, CancellationToken cancellationToken);

    /// <summary>The revision of the last change to any key of one service and environment, deletes included.</summary>
    /// <param name="serviceName">The service.</param>
    /// <param name="environment">The environment.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The revision, or 0 when no key of them was ever written.</returns>
    Task<long> GetLastRevisionAsync(string serviceName, string environment, CancellationToken cancellationToken);

    /// <summary>Sets a key's value, creating the key or a new version of it.</summary>
    /// <param name="request">The change.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    /// <exception cref="KeelException">The request's condition does not hold (<see cref="KeelError.PreconditionFailed"/>).</exception>
    Task<ConfigChange> SetAsync(SetConfigRequest request, CancellationToken cancellationToken);

    /// <summary>Deletes a live key, recording a tombstone version.</summary>
    /// <param name="request">The change.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    /// <exception cref="KeelException">
    /// The key is absent or already deleted (<see cref="KeelError.ConfigNotFound"/>), or the request's condition does not hold
    /// (<see cref="KeelError.PreconditionFailed"/>).
    /// </exception>
    Task<ConfigChange> DeleteAsync(DeleteConfigRequest request, CancellationToken cancellationToken);

    /// <summary>Gives a key the value and type of an earlier version, as a new version.</summary>
    /// <param name="request">The change.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    /// <exception cref="KeelException">
    /// The key has no such version (<see cref="KeelError.VersionNotFound"/>, or <see cref="KeelError.ConfigNotFound"/> when the key
    /// never existed), the target is a tombstone (<see cref="KeelError.RollbackToTombstone"/>), or the request's condition does not
    /// hold (<see cref="KeelError.PreconditionFailed"/>).
    /// </exception>
    Task<ConfigChange> RollbackAsync(RollbackConfigRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Changes many keys of one service and environment atomically, as one revision: every change gets its version, history
    /// record, audit record and change event (in item order within the revision), or none does.
    /// </summary>
    /// <param name="request">The changes.</param>
    /// <param name="cancellationToken">Cancels the changes if they have not committed.</param>
    /// <exception cref="KeelException">
    /// One or more items' conditions do not hold (<see cref="KeelError.VersionConflict"/>, whose errors name every such key), an item
    /// asks to decrypt an encrypted key (<see cref="KeelError.EncryptionRequired"/>), or the scope changed after
    /// <see cref="ChangeSetRequest.UnchangedSince"/> (<see cref="KeelError.ConcurrentChange"/>).
    /// </exception>
    Task<ChangeSetResult> ApplyChangeSetAsync(ChangeSetRequest request, CancellationToken cancellationToken);

    /// <summary>Reads a key's versions, newest first.</summary>
    /// <param name="id">The key.</param>
    /// <param name="limit">The most versions to return, at least 1.</param>
    /// <param name="beforeVersion">Only versions older than this one; <see langword="null"/> for the newest.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The versions, or <see langword="null"/> when the key never existed.</returns>
    Task<IReadOnlyList<ConfigVersion>?> GetHistoryAsync(ConfigId id, int limit, long? beforeVersion, CancellationToken cancellationToken);

    /// <summary>
    /// Finds live keys by folded key text across services and environments, in <see cref="SearchPosition"/> order; flags
    /// (see <see cref="Flags.FlagStorage"/>) are left out.
    /// </summary>
    /// <param name="query">What to find, and where the page starts.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Reads every live configuration key of a service, in every environment, whose key starts with <paramref name="keyPrefix"/>;
    /// flags are left out.
    /// </summary>
    /// <param name="serviceName">The service.</param>
    /// <param name="keyPrefix">The prefix; empty for every key.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The entries, with plaintext values, ordered by environment and key.</returns>
    Task<IReadOnlyList<ConfigEntry>> ListServiceAsync(string serviceName, string keyPrefix, CancellationToken cancellationToken);
}
