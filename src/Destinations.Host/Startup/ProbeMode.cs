using System.Globalization;

namespace Destinations.Host.Startup;

/// <summary>
/// <c>Destinations.Host --probe [url]</c>: GET <c>/health/ready</c> once and exit 0 on 200, else 1, without starting the web
/// host. The Dockerfile's HEALTHCHECK runs this because the aspnet runtime image has no curl (D23).
/// </summary>
public static class ProbeMode
{
    public const string ReadyPath = "/health/ready";
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] is "--probe" or "probe";

    public static async Task<int> RunAsync(string[] args)
    {
        var baseUrl = args.Length > 1 ? args[1] : DefaultBaseUrl(Environment.GetEnvironmentVariable("ASPNETCORE_URLS"),
            Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"));
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri))
        {
            await Console.Error.WriteLineAsync($"probe: '{baseUrl}' is not an absolute URL");
            return 1;
        }
        try
        {
            using var http = new HttpClient { Timeout = Timeout };
            using var response = await http.GetAsync(new Uri(uri, ReadyPath));
            Console.WriteLine($"probe: {ReadyPath} answered {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"probe: {new Uri(uri, ReadyPath)} unreachable ({ex.GetType().Name})");
            return 1;
        }
    }

    /// <summary>
    /// Where the service listens, seen from inside its container: the first <c>ASPNETCORE_URLS</c> entry with a wildcard host
    /// made loopback, else the first <c>ASPNETCORE_HTTP_PORTS</c> port (the aspnet image sets 8080), else Kestrel's default 5000.
    /// </summary>
    public static string DefaultBaseUrl(string? urls, string? httpPorts)
    {
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is not null)
            return first.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal)
                .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal).Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal);
        var port = httpPorts?.Split(';', ',').Select(p => p.Trim()).FirstOrDefault(p => p.Length > 0);
        return string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port ?? "5000"}");
    }
}
