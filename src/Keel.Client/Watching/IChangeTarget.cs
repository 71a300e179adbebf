// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Http;

namespace Keel.Client.Watching;

/// <summary>What a <see cref="ChangeWatcher"/> keeps current: the data of one selection, or one flag set.</summary>
interface IChangeTarget
{
    /// <summary>Reads everything again, conditionally (by ETag) when <paramref name="conditional"/>, and applies it.</summary>
    /// <returns>The revision the data is current to.</returns>
    Task<long> ReloadAsync(bool conditional, CancellationToken cancellationToken);

    /// <summary>Applies whole revisions of changes, the last of them <paramref name="revision"/>.</summary>
    Task ApplyAsync(IReadOnlyList<ChangeItem> changes, long revision, CancellationToken cancellationToken);

    /// <summary>Keel answered: the data is current to <paramref name="revision"/>, learnt of through <paramref name="transport"/>.</summary>
    void Succeeded(KeelTransport transport, long revision);

    /// <summary>Changes are learnt of through <paramref name="transport"/> from now on.</summary>
    void Switched(KeelTransport transport);

    /// <summary>An attempt failed; the data stays as it was.</summary>
    void Failed(Exception error);
}
