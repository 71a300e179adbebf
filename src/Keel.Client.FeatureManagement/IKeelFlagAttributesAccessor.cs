// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client.FeatureManagement;

/// <summary>
/// Supplies the evaluation context's attributes beyond the targeting context (such as <c>email</c>, <c>platform</c> or
/// <c>version</c>) for each feature evaluation. Register one as a service; without one, flags see only
/// <c>targetingKey</c> and <c>groups</c>.
/// </summary>
public interface IKeelFlagAttributesAccessor
{
    /// <summary>The attributes of the current evaluation.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>Strings, numbers, booleans, and lists and dictionaries of them; <see langword="null"/> for none.</returns>
    ValueTask<IReadOnlyDictionary<string, object?>?> GetAttributesAsync(CancellationToken cancellationToken);
}
