using System.Net;
using System.Net.Sockets;
using WireMock.Logging;
using WireMock.Server;
using WireMock.Settings;

namespace Destinations.Testing;

/// <summary>A WireMock server bound to 127.0.0.1 only (no other interface, no internet); shared by the partner test projects.</summary>
public static class LoopbackPartner
{
    public static WireMockServer Start() =>
        WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{FreePort()}"] });

    /// <summary>A loopback port nothing listens on (taken, then released): connecting is refused.</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static string Header(this ILogEntry entry, string name) =>
        entry.RequestMessage.Headers!.Single(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value.Single();
}
