// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client.FeatureManagement;

/// <summary>
/// Supplies the evaluation context's attributes beyond the targeting context (such as <c>email</c>, <c>platform</c> or
/// <c>version</c>) for each feature evaluation. Register one as a singleton (the filters that use it live as long as the
/// feature manager; read per-request data through <c>IHttpContextAccessor</c>); without one, flags see only
/// <c>targetingKey</c> and <c>groups</c>.
/// </summary>
public interface IKeelFlagAttributesAccessor
{
    /// <summary>The attributes of the current evaluation.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>
    /// Strings, numbers and booleans, arrays and lists of them, and <c>Dictionary&lt;string, object?&gt;</c> or
    /// <c>Dictionary&lt;string, string&gt;</c> of them; <see langword="null"/> for none. Any other type makes the evaluation
    /// an <c>INVALID_CONTEXT</c> error, and the feature off.
    /// </returns>
    ValueTask<IReadOnlyDictionary<string, object?>?> GetAttributesAsync(CancellationToken cancellationToken);
}
