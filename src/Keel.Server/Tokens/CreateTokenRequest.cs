// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Tokens;

sealed class CreateTokenRequest
{
    public string? Name { get; set; }

    public string? Kind { get; set; }

    public List<string>? Permissions { get; set; }

    public List<string>? Scopes { get; set; }

    public string? ServiceName { get; set; }

    public string? Environment { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public string? ClientCertificateSha256 { get; set; }
}
