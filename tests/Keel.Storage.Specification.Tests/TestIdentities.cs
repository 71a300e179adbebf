// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Encryption;

namespace Keel.Storage.Specification.Tests;

/// <summary>The actor and master key the specification's stores work with.</summary>
public static class TestIdentities
{
    /// <summary>The actor of every change the specification makes.</summary>
    public static Actor Tester { get; } = new("tok-tester", "tester", "127.0.0.1", "req-tester");

    /// <summary>A fixed master key, so that a reopened store reads what an earlier one wrote.</summary>
    public static IKeyEncryptionKey MasterKey { get; } = new LocalKeyEncryptionKey([.. Enumerable.Range(1, LocalKeyEncryptionKey.KeySize).Select(i => (byte)i)]);
}
