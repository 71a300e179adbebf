// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Storage;

/// <summary>A backend that copies itself to a file: one consistent snapshot of every table, taken while reads and writes go on.</summary>
public interface IStoreBackup
{
    /// <summary>Writes a consistent copy of the whole store to a new file, owner-only where the platform allows.</summary>
    /// <param name="destinationPath">The file to create; it must not exist.</param>
    /// <param name="cancellationToken">Cancels the copy, which then leaves no file behind.</param>
    Task BackupAsync(string destinationPath, CancellationToken cancellationToken);
}
