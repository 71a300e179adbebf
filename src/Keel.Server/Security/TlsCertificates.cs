// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace Keel.Server.Security;

/// <summary>
/// The server certificate and the client CA bundle, read from the PEM files <see cref="TlsOptions"/> names and read again
/// when they change: a new connection looks at the files' times and sizes at most once per
/// <see cref="TlsOptions.ReloadCheckInterval"/>, so that renewing a certificate takes no restart and costs handshakes nothing.
/// </summary>
sealed class TlsCertificates
{
    // The extended key usage a client certificate must allow, when it limits its usages at all.
    const string ClientAuthenticationUsage = "1.3.6.1.5.5.7.3.2";

    readonly TlsOptions _options;
    readonly TimeProvider _timeProvider;
    readonly ILogger<TlsCertificates> _logger;
    readonly Lock _gate = new();
    Loaded _current;
    long _nextCheck;

    public TlsCertificates(IOptions<TlsOptions> options, TimeProvider timeProvider, ILogger<TlsCertificates> logger)
    {
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;

        // At start a file that cannot be read stops the server, naming the setting; later a bad file keeps the last good one.
        var stamp = Stamp();
        try
        {
            _current = Load(stamp);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"Keel:Tls cannot be used: {e.Message} Keel:Tls:CertificateFile and Keel:Tls:KeyFile must hold a PEM certificate and its private key, and Keel:Tls:ClientCaFile PEM certificates.",
                e);
        }

        _nextCheck = _timeProvider.GetTimestamp() + Ticks(_options.ReloadCheckInterval);
    }

    /// <summary>The server certificate as Kestrel selects it; <see cref="Configure"/> sends its chain with it.</summary>
    public X509Certificate2 Certificate => Current.Certificate;

    Loaded Current
    {
        get
        {
            if (_timeProvider.GetTimestamp() >= Volatile.Read(ref _nextCheck))
            {
                ReloadIfChanged();
            }

            return Volatile.Read(ref _current);
        }
    }

    /// <summary>Serves HTTPS with these certificates, asking for client certificates as <see cref="TlsOptions.ClientCertificates"/> says.</summary>
    public void Configure(HttpsConnectionAdapterOptions https)
    {
        https.ServerCertificateSelector = (_, _) => Certificate;
        https.OnAuthenticate = (_, ssl) =>
        {
            // The context carries the intermediates and is built once per certificate, not once per handshake as a selected
            // certificate's would be.
            ssl.ServerCertificateSelectionCallback = null;
            ssl.ServerCertificateContext = Current.Context;
        };
        https.ClientCertificateMode = _options.ClientCertificates switch
        {
            ClientCertificates.Require => ClientCertificateMode.RequireCertificate,
            ClientCertificates.Allow => ClientCertificateMode.AllowCertificate,
            _ => ClientCertificateMode.NoCertificate,
        };
        https.CheckCertificateRevocation = false;
        https.ClientCertificateValidation = (certificate, chain, _) => IsTrustedClient(certificate, chain);
    }

    /// <summary>Whether a client certificate chains to the CA bundle and may authenticate a client.</summary>
    public bool IsTrustedClient(X509Certificate2 certificate, X509Chain? presented)
    {
        var authorities = Current.ClientAuthorities;
        if (authorities is null || !AllowsClientAuthentication(certificate))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = _timeProvider.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        foreach (var authority in authorities)
        {
            // Self-signed certificates anchor the chain; the bundle's intermediates only help build it.
            (authority.SubjectName.RawData.AsSpan().SequenceEqual(authority.IssuerName.RawData)
                ? chain.ChainPolicy.CustomTrustStore
                : chain.ChainPolicy.ExtraStore).Add(authority);
        }

        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(certificate);
    }

    /// <summary>The SHA-256 of a certificate's DER encoding in lower-case hex: the form a token binds to.</summary>
    public static string Sha256(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256));

    static bool AllowsClientAuthentication(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension usages)
            {
                foreach (var usage in usages.EnhancedKeyUsages)
                {
                    if (usage.Value == ClientAuthenticationUsage)
                    {
                        return true;
                    }
                }

                return false;
            }
        }

        return true;
    }

    void ReloadIfChanged()
    {
        lock (_gate)
        {
            if (_timeProvider.GetTimestamp() < _nextCheck)
            {
                return;
            }

            var stamp = Stamp();
            if (stamp != _current.Stamp)
            {
                try
                {
                    var loaded = Load(stamp);
                    Volatile.Write(ref _current, loaded);
                    var expires = loaded.Certificate.NotAfter.ToUniversalTime();
                    Log.TlsCertificatesReloaded(_logger, loaded.Certificate.Subject, expires);
                }
                catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
                {
                    // Often a renewal caught between writing the certificate and writing its key: the next check reads both.
                    Log.TlsCertificatesReloadFailed(_logger, e);
                }
            }

            Volatile.Write(ref _nextCheck, _timeProvider.GetTimestamp() + Ticks(_options.ReloadCheckInterval));
        }
    }

    Loaded Load(string stamp)
    {
        X509Certificate2Collection? authorities = null;
        if (!string.IsNullOrEmpty(_options.ClientCaFile))
        {
            authorities = [];
            authorities.ImportFromPemFile(_options.ClientCaFile);
            if (authorities.Count == 0)
            {
                throw new CryptographicException($"'{_options.ClientCaFile}' holds no PEM certificate.");
            }
        }

        // The file's certificates after the first are the intermediates sent with it.
        var bundle = new X509Certificate2Collection();
        bundle.ImportFromPemFile(_options.CertificateFile!);
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < bundle.Count; i++)
        {
            intermediates.Add(bundle[i]);
        }

        X509Certificate2? certificate = ReadCertificate();
        try
        {
            var loaded = new Loaded(certificate, SslStreamCertificateContext.Create(certificate, intermediates, offline: true), authorities, stamp);
            certificate = null;
            return loaded;
        }
        finally
        {
            certificate?.Dispose();
        }
    }

    X509Certificate2 ReadCertificate()
    {
        var pem = X509Certificate2.CreateFromPemFile(_options.CertificateFile!, string.IsNullOrEmpty(_options.KeyFile) ? null : _options.KeyFile);
        if (!OperatingSystem.IsWindows())
        {
            return pem;
        }

        // SChannel cannot use the ephemeral key a PEM file loads into; a PKCS#12 round trip persists it for the handshake.
        using (pem)
        {
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
    }

    /// <summary>The files' existence, write times and sizes: rewriting or replacing any of them changes it.</summary>
    string Stamp()
    {
        var stamp = new System.Text.StringBuilder();
        foreach (var path in new[] { _options.CertificateFile, _options.KeyFile, _options.ClientCaFile })
        {
            if (!string.IsNullOrEmpty(path))
            {
                var file = new FileInfo(path);
                stamp.Append(CultureInfo.InvariantCulture, $"{file.Exists}:{(file.Exists ? file.LastWriteTimeUtc.Ticks : 0)}:{(file.Exists ? file.Length : 0)};");
            }
        }

        return stamp.ToString();
    }

    long Ticks(TimeSpan interval) => (long)(interval.TotalSeconds * _timeProvider.TimestampFrequency);

    sealed record Loaded(
        X509Certificate2 Certificate, SslStreamCertificateContext Context, X509Certificate2Collection? ClientAuthorities, string Stamp);
}
