// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Security;
using Microsoft.Extensions.Options;

namespace Keel.Server.Storage;

/// <summary>
/// What the PostgreSQL provider needs beyond its own settings: a connection string, and a master key every node shares (a key
/// generated into one node's data folder would lock the others out of the database's data keys).
/// </summary>
sealed class StorageOptionsValidation(IOptions<PostgresStorageOptions> postgres, IOptions<EncryptionOptions> encryption)
    : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        if (options.Provider != StorageOptions.PostgresProvider)
        {
            return ValidateOptionsResult.Success;
        }

        List<string> failures = [];
        if (string.IsNullOrWhiteSpace(postgres.Value.ConnectionString))
        {
            failures.Add("Keel:Storage:Provider is postgres: set Keel:Storage:Postgres:ConnectionString (KEEL_POSTGRES_CONNECTION_STRING).");
        }
        else
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(postgres.Value.ConnectionString);
            }
            catch (ArgumentException e)
            {
                // The message names the bad keyword, never a value.
                failures.Add($"Keel:Storage:Postgres:ConnectionString is not a valid connection string: {e.Message}");
            }
        }

        if (string.IsNullOrEmpty(encryption.Value.MasterKey) && string.IsNullOrEmpty(encryption.Value.KeyFile))
        {
            failures.Add(
                "Keel:Storage:Provider is postgres: set KEEL_MASTER_KEY or Keel:Encryption:KeyFile, the same on every node; a generated key would be one node's alone.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
