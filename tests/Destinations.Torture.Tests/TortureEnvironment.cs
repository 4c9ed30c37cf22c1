using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Destinations.Torture.Tests;

/// <summary>Service configuration (environment variables, as an operator sets them) and small helpers shared by the tests.</summary>
static class TortureEnvironment
{
    public const string WriteKey = "torture-write-key-5e2a";
    public const string SharedSecret = "torture-shared-secret-c9d1";

    /// <summary>One Salesmachine instance pointed at <paramref name="partnerUrl"/>, compressed delays (D13), quiet logs.</summary>
    public static Dictionary<string, string> Service(string dataDirectory, string partnerUrl) => new()
    {
        ["Storage__ConnectionString"] = $"Data Source={DatabasePath(dataDirectory)}",
        ["Sources__0__Id"] = "web",
        ["Sources__0__WriteKey"] = WriteKey,
        ["Sources__0__SharedSecret"] = SharedSecret,
        ["Destinations__0__Id"] = "salesmachine-torture",
        ["Destinations__0__Type"] = "Salesmachine",
        ["Destinations__0__Settings__ApiToken"] = "torture-sm-token",
        ["Destinations__0__Settings__ApiSecret"] = "torture-sm-secret",
        ["Destinations__0__Settings__BaseUrl"] = partnerUrl,
        ["Delivery__BaseDelay"] = "00:00:00.100",
        ["Delivery__MaxDelay"] = "00:00:00.500",
        ["Delivery__Lease"] = "00:00:10",
        ["Delivery__PollInterval"] = "00:00:00.200",
        ["Salesmachine__AttemptTimeout"] = "00:00:02",
        // A held instance (breaker open on a fault storm, D12 pause) probes again within a second instead of 30 s, and the
        // partner's own rate limit (900 / 300 s) would dominate a run of thousands of events: off here.
        ["Delivery__ProbeBaseDelay"] = "00:00:00.200",
        ["Delivery__ProbeMaxDelay"] = "00:00:01",
        ["Delivery__RateLimits__salesmachine-torture__Limit"] = "0",
        // One log line per request would make the console the bottleneck of a torture run.
        ["Serilog__MinimumLevel__Default"] = "Warning",
    };

    public static string DatabasePath(string dataDirectory) => Path.Combine(dataDirectory, "destinations.db");

    public static string NewDataDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "destinations-torture-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void DeleteQuietly(string dataDirectory)
    {
        try { Directory.Delete(dataDirectory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public static HttpClient Client(TimeSpan timeout)
    {
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) }) { Timeout = timeout };
        http.DefaultRequestHeaders.Authorization = BasicAuth();
        return http;
    }

    public static AuthenticationHeaderValue BasicAuth() =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":")));

    /// <summary>An identify event whose userId (the partner's contact_uid) names it: one /v1/contact call per event.</summary>
    public static string Identify(string id) =>
        $$$"""{"type":"identify","userId":"{{{id}}}","messageId":"m-{{{id}}}","traits":{"email":"{{{id}}}@example.com","plan":"pro"}}""";

    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (condition()) return true;
            await Task.Delay(200);
        }
        return condition();
    }
}
