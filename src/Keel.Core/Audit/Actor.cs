// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Audit;

/// <summary>Who makes a change, and from where: the audit record's actor.</summary>
/// <param name="TokenId">The id of the token the request carried; <see langword="null"/> for Keel itself.</param>
/// <param name="Name">The token's name, recorded as the change's author.</param>
/// <param name="ClientAddress">The address the request came from.</param>
/// <param name="RequestId">The request's id, as the server logs it and answers it in <c>X-Request-Id</c>.</param>
public sealed record Actor(string? TokenId, string Name, string? ClientAddress = null, string? RequestId = null)
{
    /// <summary>Keel itself, for changes it makes at start such as creating the bootstrap admin token.</summary>
    public static Actor System { get; } = new(null, "keel");
}
