using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;

namespace Destinations.Benchmarks;

/// <summary>The whole benchmark run: each scenario against a fresh service (fresh SQLite file), the table at the end.</summary>
public static class Harness
{
    const string WriteKey = "bench-write-key";
    const int BatchConnections = 16;
    static readonly string Auth = Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":"));

    public static async Task<int> RunAsync(BenchOptions o)
    {
        var root = RepositoryRoot();
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;
        var hostDll = Path.Combine(root, "src", "Destinations.Host", "bin", configuration, "net10.0", "Destinations.Host.dll");
        if (!File.Exists(hostDll)) throw new FileNotFoundException("build the host first (bench/run.sh does)", hostDll);
        var self = typeof(Harness).Assembly.Location;
        var work = Directory.CreateTempSubdirectory("destinations-bench-").FullName;
        var wrkEnv = new Dictionary<string, string> { ["BENCH_AUTH"] = Auth, ["BENCH_LUA_DIR"] = Path.Combine(root, "bench") };
        var table = new Table();
        Console.WriteLine($"work dir {work}; {Environment.ProcessorCount} cores; wrk -t{o.WrkThreads} -c{o.Connections} -d{o.DurationSeconds}s; configuration {configuration}");

        using var partner = await Child.StartAsync("partner", self, "fake-partner --urls {url}", new Dictionary<string, string>(), work, "/stats");
        var scenario = 0;
        Dictionary<string, string> ServiceEnv(string partnerUrl, params (string, string)[] extra)
        {
            var dir = Path.Combine(work, $"service-{++scenario}");
            Directory.CreateDirectory(dir);
            var env = new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Storage__ConnectionString"] = $"Data Source={Path.Combine(dir, "destinations.db")}",
                ["Sources__0__Id"] = "web",
                ["Sources__0__WriteKey"] = WriteKey,
                ["Destinations__0__Id"] = "salesmachine-bench",
                ["Destinations__0__Type"] = "Salesmachine",
                ["Destinations__0__Settings__ApiToken"] = "bench-token",
                ["Destinations__0__Settings__ApiSecret"] = "bench-secret",
                ["Destinations__0__Settings__BaseUrl"] = partnerUrl,
                // Salesmachine's built-in limit (900 calls / 300 s, D25) would cap the end-to-end run: off for the benchmark.
                ["Delivery__RateLimits__salesmachine-bench__Limit"] = "0",
            };
            foreach (var (k, v) in extra) env[k] = v;
            foreach (var (k, v) in o.ServiceEnvironment) env[k] = v;
            return env;
        }
        Task<Child> StartService(string name, Dictionary<string, string> env) => Child.StartAsync(name, hostDll, "", env, work, "/health/ready");

        if (!o.Skip.Contains("single"))
        {
            var track = Path.Combine(root, "bench", "track.lua");
            using (var baseline = await Child.StartAsync("baseline", self, "baseline --urls {url}", new Dictionary<string, string>(), work, "/"))
                table.Baseline = await WrkResult.RunAsync(track, baseline.Url + "/v1/track", o, wrkEnv);
            Console.WriteLine($"baseline single: {table.Baseline.PerSecond:F0} req/s{table.Baseline.Errors}");
            using (var service = await StartService("service-single", ServiceEnv(partner.Url)))
            {
                table.Single = await WrkResult.RunAsync(track, service.Url + "/v1/track", o, wrkEnv);
                table.SingleCpu = service.CpuSeconds();
            }
            Console.WriteLine($"service single: {table.Single.PerSecond:F0} req/s{table.Single.Errors}; service CPU {table.SingleCpu:F1} s in this process");
            using (var service = await StartService("service-single-quiet", ServiceEnv(partner.Url, ("Serilog__MinimumLevel__Default", "Warning"))))
                table.SingleQuiet = await WrkResult.RunAsync(track, service.Url + "/v1/track", o, wrkEnv);
            Console.WriteLine($"service single, logs at Warning: {table.SingleQuiet.PerSecond:F0} req/s{table.SingleQuiet.Errors}");
        }

        if (!o.Skip.Contains("batch"))
        {
            var batch = Path.Combine(root, "bench", "batch.lua");
            var bo = o with { Connections = BatchConnections };
            using (var baseline = await Child.StartAsync("baseline-batch", self, "baseline --urls {url}", new Dictionary<string, string>(), work, "/"))
                table.BaselineBatch = await WrkResult.RunAsync(batch, baseline.Url + "/v1/batch", bo, wrkEnv);
            using (var service = await StartService("service-batch", ServiceEnv(partner.Url)))
                table.Batch = await WrkResult.RunAsync(batch, service.Url + "/v1/batch", bo, wrkEnv);
            Console.WriteLine($"batch: baseline {table.BaselineBatch.PerSecond * 100:F0} events/s, service {table.Batch.PerSecond * 100:F0} events/s{table.Batch.Errors}");
        }

        if (!o.Skip.Contains("rate"))
        {
            using var service = await StartService("service-rate", ServiceEnv(partner.Url));
            table.Rate = await Loader.FixedRateAsync(service.Url + "/v1/track", Auth, o.Rate, o.DurationSeconds, "rate");
            Console.WriteLine($"fixed rate {o.Rate}/s: p50 {Loader.Percentile(table.Rate.Value.LatenciesMs, 50):F2} ms, p99 {Loader.Percentile(table.Rate.Value.LatenciesMs, 99):F2} ms, {table.Rate.Value.Failures} failures");
        }

        if (!o.Skip.Contains("e2e"))
        {
            using var http = new HttpClient();
            var before = await PartnerItemsAsync(http, partner.Url);
            using var service = await StartService("service-e2e", ServiceEnv(partner.Url));
            var clock = Stopwatch.StartNew();
            var post = Loader.PostEventsAsync(service.Url + "/v1/batch", Auth, o.EndToEndEvents, 4, "e2e", TimeSpan.FromSeconds(120));
            long delivered = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(180))
            {
                delivered = await PartnerItemsAsync(http, partner.Url) - before;
                if (delivered >= o.EndToEndEvents) break;
                await Task.Delay(100);
            }
            var posted = await post;
            table.EndToEnd = (o.EndToEndEvents, posted.Posted, posted.Seconds, delivered, clock.Elapsed.TotalSeconds);
            Console.WriteLine($"end-to-end: {posted.Posted} posted in {posted.Seconds:F1} s, {delivered} delivered after {clock.Elapsed.TotalSeconds:F1} s");
        }

        if (!o.Skip.Contains("backlog"))
        {
            // The partner is down (a closed port): every delivery stays pending and backs off, so the whole backlog sits in the queue.
            using var service = await StartService("service-backlog", ServiceEnv("http://127.0.0.1:9"));
            var idle = service.Memory().Rss;
            var posted = await Loader.PostEventsAsync(service.Url + "/v1/batch", Auth, o.Backlog, 4, "backlog", TimeSpan.FromSeconds(400));
            await Task.Delay(5_000); // let the dispatcher claim, fail and back off over the backlog
            var (rss, peak) = service.Memory();
            var dbBytes = Directory.GetFiles(Path.GetDirectoryName(service.LogFile)!, "destinations.db*", SearchOption.AllDirectories)
                .Where(f => f.Contains($"service-{scenario}", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
            table.Backlog = (o.Backlog, posted.Posted, posted.Seconds, idle, rss, peak, dbBytes / 1048576.0);
            Console.WriteLine($"backlog: {posted.Posted} events in {posted.Seconds:F1} s; RSS {rss:F0} MiB (peak {peak:F0}, idle {idle:F0})");
        }

        Console.WriteLine();
        Console.WriteLine(table.Render(o));
        Directory.Delete(work, recursive: true); // the backlog database alone is ~750 MB
        return 0;
    }

    static async Task<long> PartnerItemsAsync(HttpClient http, string url) =>
        (await http.GetFromJsonAsync<PartnerStats>(url + "/stats"))!.Items;

    sealed record PartnerStats(long Requests, long Items);

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Destinations.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Destinations.sln not found");
    }
}
