// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;
using Keel.Core.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Keel.Storage.Specification.Tests;

/// <summary>
/// What a backend supplies to the specification: a store, and the means to open another one on the same data.
/// </summary>
public interface IConfigStoreFixture : IAsyncLifetime
{
    /// <summary>Why this backend's tests are skipped on this machine (its server is not configured), or <see langword="null"/>.</summary>
    string? SkipReason => null;

    /// <summary>The clock every store of this fixture stamps changes with.</summary>
    FakeTimeProvider Time { get; }

    /// <summary>An initialized store, shared by the tests of one class; each test writes only under its own service name.</summary>
    IKeelStore Store { get; }

    /// <summary>The transactions <see cref="Store"/> has committed grouped changes in since it opened (group commit).</summary>
    long CommittedTransactions { get; }

    /// <summary>Opens a new, initialized store on the same data as <see cref="Store"/>; the caller disposes it.</summary>
    Task<IKeelStore> OpenAnotherAsync();

    /// <summary>Closes <see cref="Store"/> and opens it again on the same data, as a restart does.</summary>
    Task ReopenAsync();

    /// <summary>Closes <see cref="Store"/> and opens it again under <paramref name="masterKey"/>, as a restart with another master key does.</summary>
    Task ReopenWithAsync(IKeyEncryptionKey masterKey);

    /// <summary>Opens a new, initialized store on the same data under <paramref name="masterKey"/>; the caller disposes it.</summary>
    Task<IKeelStore> OpenAnotherWithAsync(IKeyEncryptionKey masterKey);
}
