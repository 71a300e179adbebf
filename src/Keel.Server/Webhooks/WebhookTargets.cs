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

        if (addresses.Length == 0 || addresses.Any(IsPrivate))
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
            addresses = [.. addresses.Where(a => !IsPrivate(a))];
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
    /// Whether an address is anything but a public unicast address: unspecified, loopback, private (RFC 1918, unique local),
    /// shared (RFC 6598), link-local (where cloud metadata services answer), benchmarking, multicast or reserved.
    /// </summary>
    public static bool IsPrivate(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] switch
            {
                0 or 10 or 127 or >= 224 => true,
                100 => b[1] is >= 64 and < 128,
                169 => b[1] == 254,
                172 => b[1] is >= 16 and < 32,
                192 => (b[1] == 168) || (b[1] == 0 && b[2] is 0 or 2),
                198 => b[1] is 18 or 19 || (b[1] == 51 && b[2] == 100),
                203 => b[1] == 0 && b[2] == 113,
                _ => false,
            };
        }

        if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6Loopback)
            || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast)
        {
            return true;
        }

        Span<byte> v6 = stackalloc byte[16];
        address.TryWriteBytes(v6, out _);

        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4 address, which decides; 2001:db8::/32 is documentation.
        if (v6[..12].SequenceEqual(Nat64Prefix))
        {
            return IsPrivate(new IPAddress(v6[12..]));
        }

        if (v6[0] == 0x20 && v6[1] == 0x02)
        {
            return IsPrivate(new IPAddress(v6.Slice(2, 4)));
        }

        return v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0x0d && v6[3] == 0xb8;
    }

    static ReadOnlySpan<byte> Nat64Prefix => [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

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
