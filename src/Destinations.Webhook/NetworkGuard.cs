using System.Net;
using System.Net.Sockets;

namespace Destinations.Webhook;

/// <summary>
/// Refuses loopback, private, link-local and other non-public addresses unless the instance allows private networks
/// (<c>AllowPrivateNetworks</c>): a mapping builds URLs from event data, and an allowed name can still resolve to an address
/// inside our network. The check runs where the connection is made (so a DNS answer cannot change between check and connect).
/// </summary>
public static class NetworkGuard
{
    /// <summary>The request option that carries the instance's choice to the connect callback.</summary>
    public static readonly HttpRequestOptionsKey<bool> AllowPrivate = new("Destinations.Webhook.AllowPrivateNetworks");

    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        else if (EmbeddedIPv4(address) is { } embedded) address = embedded;
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 or 10 or 127 => true,
                100 => b[1] is >= 64 and <= 127,          // carrier-grade NAT
                169 => b[1] == 254,                       // link-local (cloud metadata lives here)
                172 => b[1] is >= 16 and <= 31,
                192 => (b[1] == 168) || (b[1] == 0 && b[2] == 0),
                198 => b[1] is 18 or 19,                  // benchmarking
                >= 224 => true,                           // multicast and reserved
                _ => false,
            };
        }
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal) return true;
        return false;
    }

    /// <summary>The IPv4 address inside an IPv6 address that a translator or relay turns into that IPv4 address: NAT64's
    /// well-known prefix <c>64:ff9b::/96</c> (RFC 6052) and local-use prefix <c>64:ff9b:1::/48</c> (RFC 8215, the last 32
    /// bits), and 6to4's <c>2002::/16</c> (bits 16–47). On a network with NAT64, <c>64:ff9b::a00:1</c> reaches 10.0.0.1.</summary>
    static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return null;
        var b = address.GetAddressBytes();
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
        {
            var wellKnown = b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0;
            var localUse = b[4] == 0x00 && b[5] == 0x01;
            if (wellKnown || localUse) return new IPAddress(b.AsSpan(12, 4));
        }
        if (b[0] == 0x20 && b[1] == 0x02) return new IPAddress(b.AsSpan(2, 4));
        return null;
    }

    /// <summary>
    /// <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host, refuses non-public addresses unless the request allows
    /// them, and connects to the first permitted address.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var allowPrivate = context.InitialRequestMessage.Options.TryGetValue(AllowPrivate, out var allow) && allow;
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
        var permitted = allowPrivate ? addresses : addresses.Where(a => !IsPrivate(a)).ToArray();
        if (permitted.Length == 0)
            throw new HttpRequestException(HttpRequestError.ConnectionError,
                $"refused: '{host}' resolves to a loopback, private or link-local address (AllowPrivateNetworks is off)");

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(permitted, context.DnsEndPoint.Port, ct).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The same rule before a request is built, for a clear final answer: null when the host may be used (or cannot be
    /// resolved now — then the connection attempt fails and is retried), else the reason.
    /// </summary>
    public static async Task<string?> RefusalAsync(Uri url, bool allowPrivate, CancellationToken ct)
    {
        if (allowPrivate) return null;
        IPAddress[] addresses;
        if (IPAddress.TryParse(url.IdnHost.Trim('[', ']'), out var literal)) addresses = [literal];
        else
        {
            try { addresses = await Dns.GetHostAddressesAsync(url.IdnHost, ct).ConfigureAwait(false); }
            catch (SocketException) { return null; }
        }
        return addresses.Length > 0 && addresses.All(IsPrivate)
            ? $"refused: the host '{url.Host}' resolves to a loopback, private or link-local address (AllowPrivateNetworks is off)"
            : null;
    }
}
