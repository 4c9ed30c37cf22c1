using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;

namespace Destinations.Benchmarks;

/// <summary>
/// Ingest with a few destination filters (docs/configuration.md "Destination filters") against the same work without them,
/// in one service process. The service has two sources and two Salesmachine instances that differ only in the filters:
/// <c>salesmachine-bench</c> (no filters) hears <c>web</c>, <c>salesmachine-filtered</c> (the filters) hears
/// <c>web-filtered</c>. Both are warmed, then measured runs alternate between the two write keys (without, with, with,
/// without). Each measured run lasts until the dispatcher has delivered what it acknowledged, so its CPU is ingest plus the
/// delivery of the same events, and the next run starts with an empty queue.
/// Why one process: on fresh services per variant, the tiered JIT was still compiling through the measured runs (JIT time
/// 4–94 µs per request from run to run, measured with dotnet-counters), and that, not the filters, decided the difference.
/// The filters are chosen so every bench event is still routed and delivered: the store and the dispatcher do the same
/// work for both keys, and the difference is the filters' own cost (conditions and sample at routing, dropProperties at
/// mapping).
/// </summary>
public static class FilterScenario
{
    public const string FilteredSource = "web-filtered";
    public const string FilteredWriteKey = "bench-write-key-filtered";
    public const string FilteredInstance = "salesmachine-filtered";

    /// <summary>The filters, as keys under an instance's <c>Filters</c> section.</summary>
    public static readonly (string Key, string Value)[] Filters =
    [
        ("0__drop", "event = \"Test Event\" or contains(context.page.url, \"staging.\")"),
        ("1__only", "type = \"track\" or type = \"identify\""),
        ("2__sample", "99.99"),
        ("2__by", "userId"),
        ("3__dropProperties__0", "context.ip"),
        ("3__dropProperties__1", "properties.email"),
    ];

    public static string Describe() =>
        "drop (FQL with contains()), only (FQL), sample 99.99% by userId, dropProperties (context.ip, properties.email)";

    /// <summary>Settings over the harness's one-instance service: its instance linked to <c>web</c> only, and the second
    /// source and instance (the first's settings and lifted rate limit, plus the filters).</summary>
    public static (string, string)[] Settings(string partnerUrl) =>
    [
        ("Destinations__0__Sources__0", "web"),
        ("Sources__1__Id", FilteredSource),
        ("Sources__1__WriteKey", FilteredWriteKey),
        ("Destinations__1__Id", FilteredInstance),
        ("Destinations__1__Type", "Salesmachine"),
        ("Destinations__1__Sources__0", FilteredSource),
        ("Destinations__1__Settings__ApiToken", "bench-token"),
        ("Destinations__1__Settings__ApiSecret", "bench-secret"),
        ("Destinations__1__Settings__BaseUrl", partnerUrl),
        ($"Delivery__RateLimits__{FilteredInstance}__Limit", "0"),
        .. Filters.Select(f => ($"Destinations__1__Filters__{f.Key}", f.Value)),
    ];

    /// <summary>Single then batch ingest of one service, each as warm-ups of both keys and then measured runs in the order
    /// without, with, with, without.</summary>
    public static async Task<FilterResult> RunAsync(Service service, string partnerUrl, string root, BenchOptions o,
        IReadOnlyDictionary<string, string> wrkEnv, string plainAuth, int batchConnections, string name)
    {
        var filteredAuth = Convert.ToBase64String(Encoding.UTF8.GetBytes(FilteredWriteKey + ":"));
        var env = new Dictionary<bool, Dictionary<string, string>>
        {
            [false] = new(wrkEnv) { ["BENCH_AUTH"] = plainAuth },
            [true] = new(wrkEnv) { ["BENCH_AUTH"] = filteredAuth },
        };
        using var http = new HttpClient();
        var result = new FilterResult();
        // Every run waits for the partner to have all events acknowledged so far (not only its own), so a dispatcher that
        // fell behind in one run does not carry its backlog into the next one's CPU.
        var (_, start) = await StatsAsync(http, partnerUrl);
        long acknowledged = 0;
        foreach (var (kind, script, path, wo, perRequest) in new[]
                 {
                     ("single", "track.lua", "/v1/track", o, 1),
                     ("batch", "batch.lua", "/v1/batch", o with { Connections = batchConnections }, 100),
                 })
        {
            var file = Path.Combine(root, "bench", script);
            var url = service.Url + path;
            if (o.WarmupSeconds > 0)
                foreach (var filtered in new[] { false, true })
                {
                    var w = await WrkResult.RunAsync(file, url, wo with { DurationSeconds = o.WarmupSeconds }, env[filtered]);
                    acknowledged += (w.Requests - w.Non2xx) * perRequest;
                    await DrainAsync(http, partnerUrl, start, acknowledged);
                    Console.WriteLine($"  warm-up {name} {kind}, {Label(filtered)} ({o.WarmupSeconds} s, not measured): " +
                        $"{w.PerSecond * perRequest:F0} events/s{w.Errors}");
                }
            foreach (var filtered in new[] { false, true, true, false })
            {
                var cpu = service.Child.CpuSeconds();
                var (requests0, items0) = await StatsAsync(http, partnerUrl);
                var wrk = await WrkResult.RunAsync(file, url, wo, env[filtered]);
                acknowledged += (wrk.Requests - wrk.Non2xx) * perRequest;
                var drain = await DrainAsync(http, partnerUrl, start, acknowledged);
                var run = new FilterRun(kind, filtered, wrk, perRequest, service.Child.CpuSeconds() - cpu,
                    drain.Requests - requests0, drain.Items - items0, drain.Seconds);
                result.Runs.Add(run);
                Console.WriteLine($"{name} {kind}, {Label(filtered)}: {run.EventsPerSecond:F0} events/s{wrk.Errors}; service CPU " +
                    $"{run.CpuSeconds:F1} s = {run.CpuUsPerEvent:F1} µs per event, ingest and delivery (drained {drain.Seconds:F1} s " +
                    $"after the run{(drain.Complete ? "" : ", NOT ALL DELIVERED: the next run starts with a backlog")}); partner: " +
                    $"{run.PartnerItems} items in {run.PartnerCalls} calls");
            }
        }
        return result;
    }

    static string Label(bool filtered) => filtered ? "with filters" : "without filters";

    /// <summary>Waits until the partner has counted, since it counted <paramref name="itemsAtStart"/>, the
    /// <paramref name="acknowledged"/> events the service acknowledged (less the sample's 0.01%), or its count has not moved
    /// for 10 s, or two minutes have passed.</summary>
    static async Task<(long Requests, long Items, double Seconds, bool Complete)> DrainAsync(HttpClient http, string partnerUrl,
        long itemsAtStart, long acknowledged)
    {
        var clock = Stopwatch.StartNew();
        var last = await StatsAsync(http, partnerUrl);
        var still = Stopwatch.StartNew();
        bool Complete() => last.Items - itemsAtStart >= acknowledged * 0.999;
        while (!Complete() && clock.Elapsed < TimeSpan.FromSeconds(120) && still.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100);
            var now = await StatsAsync(http, partnerUrl);
            if (now != last) { last = now; still.Restart(); }
        }
        return (last.Requests, last.Items, clock.Elapsed.TotalSeconds, Complete());
    }

    static async Task<(long Requests, long Items)> StatsAsync(HttpClient http, string partnerUrl)
    {
        var s = (await http.GetFromJsonAsync<PartnerStats>(partnerUrl + "/stats"))!;
        return (s.Requests, s.Items);
    }

    sealed record PartnerStats(long Requests, long Items);
}

/// <summary>One measured run of <see cref="FilterScenario"/>: the CPU covers the wrk run and the drain after it.</summary>
public sealed record FilterRun(string Kind, bool Filtered, WrkResult Wrk, int PerRequest, double CpuSeconds, long PartnerCalls,
    long PartnerItems, double DrainSeconds)
{
    public long Events => Wrk.Requests * PerRequest;
    public double EventsPerSecond => Wrk.PerSecond * PerRequest;
    public double CpuUsPerEvent => Events == 0 ? 0 : CpuSeconds * 1e6 / Events;
}

/// <summary>One store's runs of <see cref="FilterScenario"/>.</summary>
public sealed class FilterResult
{
    public List<FilterRun> Runs { get; } = [];

    public static string Render(IReadOnlyList<(StoreKind Store, FilterResult Result)> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Destination filters ({FilterScenario.Describe()}; every event still routed and delivered): one service, two " +
            "instances that differ only in the filters, measured runs alternating without, with, with, without; CPU = the " +
            "service's CPU during each run and the delivery of its events after it, summed over both runs of a variant:");
        sb.AppendLine();
        sb.AppendLine("| store | ingest | events/s without → with (each run) | CPU µs / event without → with | difference | partner items per event without / with |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var (store, r) in results)
            foreach (var kind in r.Runs.Select(x => x.Kind).Distinct())
            {
                var without = r.Runs.Where(x => x.Kind == kind && !x.Filtered).ToList();
                var with = r.Runs.Where(x => x.Kind == kind && x.Filtered).ToList();
                if (without.Count == 0 || with.Count == 0) continue;
                double Cpu(List<FilterRun> runs) => runs.Sum(x => x.CpuSeconds) * 1e6 / Math.Max(1, runs.Sum(x => x.Events));
                double Items(List<FilterRun> runs) => runs.Sum(x => x.PartnerItems) / (double)Math.Max(1, runs.Sum(x => x.Events));
                string Rates(List<FilterRun> runs) => string.Join(", ", runs.Select(x => x.EventsPerSecond.ToString("N0", CultureInfo.InvariantCulture)));
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {BenchOptions.Name(store)} | {kind} | {Rates(without)} → {Rates(with)} | {Cpu(without):F1} → {Cpu(with):F1} | " +
                    $"{Cpu(with) - Cpu(without):+0.0;-0.0} µs ({Cpu(with) / Cpu(without):F2}x) | {Items(without):F3} / {Items(with):F3} |"));
            }
        return sb.ToString();
    }
}
