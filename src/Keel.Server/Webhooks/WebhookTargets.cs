// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using Keel.Core;
using Microsoft.Extensions.Options;

namespace Keel.Server.Webhooks;

/// <summary>
/// Where webhooks may go: absolute http or https URLs without credentials, and, unless <c>Keel:Webhooks:AllowPrivateNetworks</c>
/// is set, only public addresses. The address check runs at subscription and again at every connection, on the addresses
/// actually connected to, so that a name re-pointed at an internal address later (DNS rebinding) is refused too.
/// </summary>
sealed class WebhookTargets(IOptions<WebhookOptions> options)
{
    public const string UrlField = "webhook_url";

    /// <summary>Checks a URL for a new subscription; the error names what is wrong.</summary>
    public async Task<Uri> ValidateAsync(string? url, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(url))
        {
            throw Invalid("webhook_url is required.");
        }

        if (url.Length > WebhookOptions.MaxUrlLength)
        {
            throw Invalid($"webhook_url must be at most {WebhookOptions.MaxUrlLength} characters.");
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw Invalid("webhook_url must be an absolute http or https URL.");
        }

        if (uri.UserInfo.Length > 0)
        {
            throw Invalid("webhook_url must not carry credentials; the receiver verifies X-Keel-Signature instead.");
        }

        if (uri.Fragment.Length > 0)
        {
            throw Invalid("webhook_url must not carry a fragment.");
        }

        if (options.Value.AllowPrivateNetworks)
        {
            return uri;
        }

        IPAddress[] addresses;
        try
        {
            addresses = await ResolveAsync(uri.IdnHost, cancellationToken);
        }
        catch (SocketException)
        {
            throw Invalid($"webhook_url's host '{uri.Host}' does not resolve.");
        }

        if (addresses.Length == 0 || !addresses.All(IsPublic))
        {
            throw Invalid(
                $"webhook_url's host '{uri.Host}' is a loopback, private or otherwise non-public address; such targets need Keel:Webhooks:AllowPrivateNetworks.");
        }

        return uri;
    }

    /// <summary>Connects a delivery, to the first allowed address of its host.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = await ResolveAsync(endpoint.Host, cancellationToken);
        if (!options.Value.AllowPrivateNetworks)
        {
            addresses = [.. addresses.Where(IsPublic)];
        }

        if (addresses.Length == 0)
        {
            throw new WebhookTargetRefusedException();
        }

        Socket? socket = new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endpoint.Port, cancellationToken);
            var stream = new NetworkStream(socket, ownsSocket: true);
            socket = null;
            return stream;
        }
        finally
        {
            socket?.Dispose();
        }
    }

    /// <summary>
    /// Whether webhooks may reach an address without <c>Keel:Webhooks:AllowPrivateNetworks</c>: only a global unicast address
    /// that no special-purpose registry sets aside. An IPv4-mapped address (<c>::ffff:a.b.c.d</c>) and one in the NAT64
    /// well-known prefix (<c>64:ff9b::a.b.c.d</c>) are judged by the IPv4 address they lead to.
    /// </summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var verdict = Judge(address);
        if (verdict == Verdict.ByEmbeddedIPv4)
        {
            Span<byte> bytes = stackalloc byte[16];
            address.TryWriteBytes(bytes, out _);
            verdict = Judge(new IPAddress(bytes[12..]));
        }

        return verdict == Verdict.Allowed;
    }

    /// <summary>The verdict of the most specific range holding the address; an address in no range is refused.</summary>
    static Verdict Judge(IPAddress address)
    {
        var verdict = Verdict.Refused;
        var length = -1;
        foreach (var (range, rangeVerdict) in Ranges)
        {
            if (range.PrefixLength > length && range.Contains(address))
            {
                verdict = rangeVerdict;
                length = range.PrefixLength;
            }
        }

        return verdict;
    }

    /// <summary>
    /// Where webhooks may go, as ranges checked against the IANA IPv4 Special-Purpose Address Registry, the IANA IPv6
    /// Special-Purpose Address Registry, and the IPv4 Multicast and IPv6 Address Space registries for what those leave out. The
    /// most specific range holding an address decides, and an address in none is refused: so outside 2000::/3 every IPv6
    /// address is refused, which covers ::/128 unspecified, ::1/128 loopback, ::/96 IPv4-compatible, ::ffff:0:0:0/96
    /// IPv4-translated, 64:ff9b:1::/48 local-use NAT64 (RFC 8215: its translator and how it embeds IPv4 are the operator's, so
    /// the IPv4 address it leads to cannot be known), 100::/64 discard-only, 100:0:0:1::/64 dummy prefix, 5f00::/16 SRv6 SIDs,
    /// fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local and ff00::/8 multicast.
    /// </summary>
    static readonly (IPNetwork Range, Verdict Verdict)[] Ranges =
    [
        Allow("0.0.0.0/0"),              // IPv4, less the ranges below
        Refuse("0.0.0.0/8"),             // "this network"
        Refuse("10.0.0.0/8"),            // private, RFC 1918
        Refuse("100.64.0.0/10"),         // shared address space (carrier-grade NAT), RFC 6598
        Refuse("127.0.0.0/8"),           // loopback
        Refuse("169.254.0.0/16"),        // link-local, where cloud metadata services answer
        Refuse("172.16.0.0/12"),         // private, RFC 1918
        Refuse("192.0.0.0/24"),          // IETF protocol assignments
        Refuse("192.0.2.0/24"),          // documentation (TEST-NET-1)
        Refuse("192.31.196.0/24"),       // AS112-v4
        Refuse("192.52.193.0/24"),       // AMT
        Refuse("192.88.99.0/24"),        // 6to4 relay anycast (deprecated)
        Refuse("192.168.0.0/16"),        // private, RFC 1918
        Refuse("192.175.48.0/24"),       // direct delegation AS112 service
        Refuse("198.18.0.0/15"),         // benchmarking
        Refuse("198.51.100.0/24"),       // documentation (TEST-NET-2)
        Refuse("203.0.113.0/24"),        // documentation (TEST-NET-3)
        Refuse("224.0.0.0/4"),           // multicast
        Refuse("240.0.0.0/4"),           // reserved
        Refuse("255.255.255.255/32"),    // limited broadcast

        Allow("2000::/3"),               // global unicast
        Refuse("2001::/23"),             // IETF protocol assignments: Teredo, benchmarking, AMT, AS112-v6, ORCHID, DRIP
        Refuse("2001:db8::/32"),         // documentation
        Refuse("2002::/16"),             // 6to4 (deprecated), whatever IPv4 address it embeds: a relay may forward it anywhere
        Refuse("2620:4f:8000::/48"),     // direct delegation AS112 service
        Refuse("3fff::/20"),             // documentation
        ByEmbeddedIPv4("::ffff:0:0/96"), // IPv4-mapped: the socket connects to the IPv4 address
        ByEmbeddedIPv4("64:ff9b::/96"),  // NAT64 well-known prefix, how IPv6-only hosts reach IPv4 receivers
    ];

    static (IPNetwork, Verdict) Allow(string range) => (IPNetwork.Parse(range), Verdict.Allowed);

    static (IPNetwork, Verdict) Refuse(string range) => (IPNetwork.Parse(range), Verdict.Refused);

    static (IPNetwork, Verdict) ByEmbeddedIPv4(string range) => (IPNetwork.Parse(range), Verdict.ByEmbeddedIPv4);

    enum Verdict
    {
        Refused,
        Allowed,

        /// <summary>Judged by the IPv4 address in the last 32 bits.</summary>
        ByEmbeddedIPv4,
    }

    static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);

    static KeelException Invalid(string message) =>
        new(KeelError.InvalidRequest, message, [new FieldError(UrlField, message)]);
}

/// <summary>A delivery's host resolves only to addresses webhooks may not reach.</summary>
sealed class WebhookTargetRefusedException : Exception
{
    public WebhookTargetRefusedException()
        : base("The webhook's host resolves only to loopback, private or other non-public addresses.")
    {
    }
}
