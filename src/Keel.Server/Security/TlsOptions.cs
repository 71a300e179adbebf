// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;

namespace Keel.Server.Security;

/// <summary>Whether HTTPS connections present a client certificate.</summary>
enum ClientCertificates
{
    /// <summary>None is asked for; bearer tokens alone authenticate.</summary>
    None,

    /// <summary>Asked for and, when presented, checked against the CA bundle; a connection without one goes on.</summary>
    Allow,

    /// <summary>Required: a connection without a certificate the CA bundle vouches for fails its handshake.</summary>
    Require,
}

/// <summary>HTTPS from PEM files (<c>Keel:Tls</c>); the files are read again when they change.</summary>
sealed class TlsOptions : IValidatableObject
{
    public const string Section = "Keel:Tls";

    /// <summary>Where the server listens with a certificate and nothing else says.</summary>
    public const string DefaultUrl = "https://127.0.0.1:8443";

    /// <summary>
    /// The server's certificate as PEM: the leaf first, then the intermediates it sends with it. Setting it serves every
    /// <c>https://</c> URL with it.
    /// </summary>
    public string? CertificateFile { get; set; }

    /// <summary>The certificate's private key as PEM; without it the key is read from <see cref="CertificateFile"/>.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Whether connections present a client certificate.</summary>
    public ClientCertificates ClientCertificates { get; set; } = ClientCertificates.None;

    /// <summary>The CA certificates (PEM) that client certificates must chain to; required unless client certificates are off.</summary>
    public string? ClientCaFile { get; set; }

    /// <summary>
    /// How often, at most, a new connection checks whether the files changed: a renewed certificate is served from the first
    /// connection after this much time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ReloadCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    public bool Enabled => !string.IsNullOrEmpty(CertificateFile);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
        {
            if (ClientCertificates != ClientCertificates.None || !string.IsNullOrEmpty(KeyFile) || !string.IsNullOrEmpty(ClientCaFile))
            {
                yield return new ValidationResult(
                    "Keel:Tls:KeyFile, Keel:Tls:ClientCertificates and Keel:Tls:ClientCaFile need Keel:Tls:CertificateFile.", [nameof(CertificateFile)]);
            }

            yield break;
        }

        foreach (var (name, path) in new[] { (nameof(CertificateFile), CertificateFile), (nameof(KeyFile), KeyFile), (nameof(ClientCaFile), ClientCaFile) })
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
            {
                yield return new ValidationResult($"Keel:Tls:{name} '{path}' does not exist.", [name]);
            }
        }

        if (ClientCertificates != ClientCertificates.None && string.IsNullOrEmpty(ClientCaFile))
        {
            yield return new ValidationResult(
                $"Keel:Tls:ClientCertificates is {ClientCertificates}: Keel:Tls:ClientCaFile must name the CA certificates that client certificates chain to.",
                [nameof(ClientCaFile)]);
        }
    }
}
