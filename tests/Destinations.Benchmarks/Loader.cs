using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Destinations.Benchmarks;

/// <summary>HttpClient load the wrk scripts cannot do: a fixed offered rate (open loop), and posting an exact number of events.</summary>
public static class Loader
{
    const string Template = """{"type":"track","messageId":"{0}","userId":"{1}","event":"Order Completed","context":{"ip":"198.51.100.23","library":{"name":"analytics.js","version":"next-1.70.0"},"page":{"path":"/pricing","url":"https://app.example.com/pricing?plan=pro"}},"properties":{"order_id":"ord_1009","total":129.9,"currency":"EUR","products":[{"product_id":"sku_1","price":59.95,"quantity":2}]}}""";

    public static string Event(string id) => Template.Replace("{0}", "m-" + id, StringComparison.Ordinal).Replace("{1}", "u-" + id, StringComparison.Ordinal);

    public static HttpClient Client(string auth) => new(new SocketsHttpHandler { MaxConnectionsPerServer = 256 })
    {
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Basic", auth) },
    };

    /// <summary>
    /// Single events at <paramref name="rate"/>/s for <paramref name="seconds"/>; latency is measured from each request's
    /// scheduled start (no coordinated omission). Returns (sorted latencies in ms, failures).
    /// </summary>
    public static async Task<(double[] LatenciesMs, int Failures)> FixedRateAsync(string url, string auth, int rate, int seconds, string prefix)
    {
        using var http = Client(auth);
        var total = rate * seconds;
        var latencies = new double[total];
        var failures = 0;
        var clock = Stopwatch.StartNew();
        var tasks = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait);
            var n = i;
            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    using var r = await http.PostAsync(url, new StringContent(Event($"{prefix}-{n}"), Encoding.UTF8, "application/json"));
                    if (!r.IsSuccessStatusCode) Interlocked.Increment(ref failures);
                }
                catch (HttpRequestException) { Interlocked.Increment(ref failures); }
                latencies[n] = (clock.Elapsed - due).TotalMilliseconds;
            }));
        }
        await Task.WhenAll(tasks);
        Array.Sort(latencies);
        return (latencies, failures);
    }

    /// <summary>Posts <paramref name="events"/> events as /v1/batch requests of 100 with <paramref name="concurrency"/> senders.</summary>
    public static async Task<(int Posted, int Failures, double Seconds)> PostEventsAsync(
        string url, string auth, int events, int concurrency, string prefix, TimeSpan deadline)
    {
        using var http = Client(auth);
        var next = -1;
        int posted = 0, failures = 0;
        var clock = Stopwatch.StartNew();
        async Task SendAsync()
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) * 100 < events && clock.Elapsed < deadline)
            {
                var count = Math.Min(100, events - b * 100);
                var sb = new StringBuilder("{\"batch\":[", count * 420);
                for (var i = 0; i < count; i++) sb.Append(i == 0 ? "" : ",").Append(Event($"{prefix}-{b * 100 + i}"));
                sb.Append("]}");
                try
                {
                    using var r = await http.PostAsync(url, new StringContent(sb.ToString(), Encoding.UTF8, "application/json"));
                    if (r.IsSuccessStatusCode) Interlocked.Add(ref posted, count); else Interlocked.Increment(ref failures);
                }
                catch (HttpRequestException) { Interlocked.Increment(ref failures); }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(SendAsync)));
        return (posted, failures, clock.Elapsed.TotalSeconds);
    }

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
}
