// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Schemas;

namespace Keel.Core.Storage;

/// <summary>The JSON Schemas of each service's keys, versioned, with every put and delete in the audit trail.</summary>
public interface ISchemaStore
{
    /// <summary>Reads every schema of a service, ordered by key pattern.</summary>
    /// <param name="serviceName">The service.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<IReadOnlyList<ConfigSchema>> ListSchemasAsync(string serviceName, CancellationToken cancellationToken);

    /// <summary>Creates or replaces the schema of a key pattern, as its next version, with an audit record.</summary>
    /// <param name="serviceName">The service.</param>
    /// <param name="keyPattern">The key pattern.</param>
    /// <param name="schema">The JSON Schema document, already checked.</param>
    /// <param name="actor">Who puts it.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    Task<ConfigSchema> PutSchemaAsync(string serviceName, string keyPattern, string schema, Actor actor, CancellationToken cancellationToken);

    /// <summary>Deletes the schema of a key pattern, with an audit record.</summary>
    /// <param name="serviceName">The service.</param>
    /// <param name="keyPattern">The key pattern.</param>
    /// <param name="actor">Who deletes it.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    /// <exception cref="KeelException">The pattern has no schema (<see cref="KeelError.SchemaNotFound"/>).</exception>
    Task DeleteSchemaAsync(string serviceName, string keyPattern, Actor actor, CancellationToken cancellationToken);
}
