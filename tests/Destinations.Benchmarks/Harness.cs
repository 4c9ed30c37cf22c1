using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Destinations.Benchmarks;

/// <summary>
/// The whole benchmark run: each scenario against a fresh service per store (a fresh SQLite file, or a fresh PostgreSQL
/// database), each measured run after an unmeasured warm-up of the same process (tiered JIT), the table at the end.
/// </summary>
public static class Harness
{
    const string WriteKey = "bench-write-key";
    const int BatchConnections = 16;
    static readonly string Auth = Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":"));

    public static async Task<int> RunAsync(BenchOptions o)
    {
        var root = Repository.Root();
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;
        var hostDll = Path.Combine(root, "src", "Destinations.Host", "bin", configuration, "net10.0", "Destinations.Host.dll");
        if (!File.Exists(hostDll)) throw new FileNotFoundException("build the host first (bench/run.sh does)", hostDll);
        var self = typeof(Harness).Assembly.Location;
        var work = Directory.CreateTempSubdirectory("destinations-bench-").FullName;
        var wrkEnv = new Dictionary<string, string> { ["BENCH_AUTH"] = Auth, ["BENCH_LUA_DIR"] = Path.Combine(root, "bench") };

        var stores = o.Stores.Distinct().ToList();
        PostgresServer? pg = null;
        if (stores.Contains(StoreKind.Postgres))
        {
            if (o.Postgres is null)
            {
                Console.WriteLine($"PostgreSQL: NOT RUN — no server given (--postgres CONN or ${BenchOptions.PostgresVariable}; bench/run.sh " +
                    "starts a throw-away one when the PostgreSQL binaries are installed): SQLite only");
                stores.Remove(StoreKind.Postgres);
                if (stores.Count == 0) stores.Add(StoreKind.Sqlite);
            }
            else
            {
                pg = new PostgresServer(o.Postgres);
                Console.WriteLine($"PostgreSQL {await pg.VersionAsync()} at {pg.Where}: a fresh database per scenario, dropped after it");
            }
        }
        var dbPrefix = $"bench_{Environment.ProcessId}";
        var table = new Table(stores);
        Console.WriteLine($"work dir {work}; {Environment.ProcessorCount} cores; wrk -t{o.WrkThreads} -c{o.Connections} -d{o.DurationSeconds}s; " +
            $"warm-up {(o.WarmupSeconds > 0 ? $"{o.WarmupSeconds} s before each measured run (not measured, printed as \"warm-up\")" : "off")}; " +
            $"stores {string.Join(", ", stores.Select(BenchOptions.Name))}; configuration {configuration}");

        using var partner = await Child.StartAsync("partner", self, "fake-partner --urls {url}", new Dictionary<string, string>(), work, "/stats");
        var scenario = 0;

        async Task<Service> StartService(string name, StoreKind store, string partnerUrl, params (string, string)[] extra)
        {
            var n = ++scenario;
            var dir = Path.Combine(work, $"service-{n}");
            Directory.CreateDirectory(dir);
            var database = store == StoreKind.Postgres ? $"{dbPrefix}_{n}" : null;
            var connection = database is null ? $"Data Source={Path.Combine(dir, "destinations.db")}" : await pg!.CreateAsync(database);
            var env = new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                // The host's own folder as content root, as in the Docker image (WORKDIR /app): its appsettings.json (log
                // levels: HttpClient and Polly quieted) applies. The working directory stays the scenario's temp folder.
                ["ASPNETCORE_CONTENTROOT"] = Path.GetDirectoryName(hostDll)!,
                ["Storage__Provider"] = store == StoreKind.Postgres ? "Postgres" : "Sqlite",
                ["Storage__ConnectionString"] = connection,
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
            try
            {
                var child = await Child.StartAsync($"{name}-{store.ToString().ToLowerInvariant()}", hostDll, "", env, work, "/health/ready");
                return new Service(child, store, dir, database, pg);
            }
            catch
            {
                if (database is not null) await pg!.DropAsync(database);
                throw;
            }
        }

        // The unmeasured pass before a measured wrk run: same process, same script, same connections.
        async Task<WrkResult?> WarmUpAsync(string label, string script, string url, BenchOptions wo, int eventsPerRequest = 1)
        {
            if (o.WarmupSeconds <= 0) return null;
            var w = await WrkResult.RunAsync(script, url, wo with { DurationSeconds = o.WarmupSeconds }, wrkEnv);
            Console.WriteLine($"  warm-up {label} ({o.WarmupSeconds} s, not measured): {w.PerSecond:F0} req/s" +
                (eventsPerRequest > 1 ? $" = {w.PerSecond * eventsPerRequest:F0} events/s" : "") + $", p50 / p99 {w.P50Ms:F2} / {w.P99Ms:F2} ms{w.Errors}");
            return w;
        }

        // The naive durable reference (Reference.cs) as a child process on a fresh SQLite file in the work folder. Afterwards its
        // rows are counted against the events it answered 2xx for (a row per acknowledged event must be there: otherwise the
        // ceiling it shows is not a durable one), and the file is removed (a warmed batch run writes gigabytes).
        var references = 0;
        async Task<T> WithReferenceAsync<T>(Func<Child, Task<(T Result, long Acknowledged)>> run)
        {
            var n = ++references;
            var file = Path.Combine(work, $"reference-{n}.db");
            (T Result, long Acknowledged) measured;
            using (var reference = await Child.StartAsync($"reference-{n}", self, $"reference --urls {{url}} --db \"{file}\"",
                       new Dictionary<string, string>(), work, "/"))
                measured = await run(reference);
            var rows = ReferenceRows(file);
            Console.WriteLine($"  reference-{n}: {rows:N0} rows in its SQLite file for {measured.Acknowledged:N0} events acknowledged" +
                (rows < measured.Acknowledged ? " — FEWER ROWS THAN ACKNOWLEDGED EVENTS: its figures are not durable ones" : ""));
            foreach (var f in Directory.GetFiles(work, $"reference-{n}.db*")) File.Delete(f);
            return measured.Result;
        }

        // The reference's single or batch run: warmed and measured like the baseline's.
        async Task<(WrkResult Result, double Cpu)> MeasureReferenceAsync(string label, string script, string path, BenchOptions wo,
            int eventsPerRequest) =>
            await WithReferenceAsync(async reference =>
            {
                var warm = await WarmUpAsync($"reference {label}", script, reference.Url + path, wo, eventsPerRequest);
                var m = await MeasureAsync(reference, script, reference.Url + path, wo);
                var answered = m.Result.Requests - m.Result.Non2xx + (warm is null ? 0 : warm.Requests - warm.Non2xx);
                return (m, answered * eventsPerRequest);
            });

        // A measured wrk run, with the CPU seconds the child process used during it.
        async Task<(WrkResult Result, double Cpu)> MeasureAsync(Child child, string script, string url, BenchOptions wo)
        {
            var cpu = child.CpuSeconds();
            var result = await WrkResult.RunAsync(script, url, wo, wrkEnv);
            return (result, child.CpuSeconds() - cpu);
        }

        if (!o.Skip.Contains("single"))
        {
            var track = Path.Combine(root, "bench", "track.lua");
            using (var baseline = await Child.StartAsync("baseline", self, "baseline --urls {url}", new Dictionary<string, string>(), work, "/"))
            {
                await WarmUpAsync("baseline single", track, baseline.Url + "/v1/track", o);
                (table.Baseline, table.BaselineCpu) = await MeasureAsync(baseline, track, baseline.Url + "/v1/track", o);
            }
            Console.WriteLine($"baseline single: {table.Baseline.PerSecond:F0} req/s{table.Baseline.Errors}");
            if (!o.Skip.Contains("reference"))
            {
                (table.Reference, table.ReferenceCpu) = await MeasureReferenceAsync("single", track, "/v1/track", o, 1);
                Console.WriteLine($"reference single: {table.Reference.PerSecond:F0} req/s{table.Reference.Errors}");
            }
            foreach (var store in stores)
            {
                var r = table[store];
                var name = BenchOptions.Name(store);
                await using (var service = await StartService("service-single", store, partner.Url))
                {
                    await WarmUpAsync($"{name} single", track, service.Url + "/v1/track", o);
                    (r.Single, r.SingleCpu) = await MeasureAsync(service.Child, track, service.Url + "/v1/track", o);
                }
                Console.WriteLine($"{name} single: {r.Single.PerSecond:F0} req/s{r.Single.Errors}; service CPU {r.SingleCpu:F1} s during the measured run");
                await using (var service = await StartService("service-single-quiet", store, partner.Url, ("Serilog__MinimumLevel__Default", "Warning")))
                {
                    await WarmUpAsync($"{name} single, logs at Warning", track, service.Url + "/v1/track", o);
                    r.SingleQuiet = await WrkResult.RunAsync(track, service.Url + "/v1/track", o, wrkEnv);
                }
                Console.WriteLine($"{name} single, logs at Warning: {r.SingleQuiet.PerSecond:F0} req/s{r.SingleQuiet.Errors}");
            }
        }

        if (!o.Skip.Contains("batch"))
        {
            var batch = Path.Combine(root, "bench", "batch.lua");
            var bo = o with { Connections = BatchConnections };
            using (var baseline = await Child.StartAsync("baseline-batch", self, "baseline --urls {url}", new Dictionary<string, string>(), work, "/"))
            {
                await WarmUpAsync("baseline batch", batch, baseline.Url + "/v1/batch", bo, 100);
                (table.BaselineBatch, table.BaselineBatchCpu) = await MeasureAsync(baseline, batch, baseline.Url + "/v1/batch", bo);
            }
            Console.WriteLine($"baseline batch: {table.BaselineBatch.PerSecond * 100:F0} events/s{table.BaselineBatch.Errors}");
            if (!o.Skip.Contains("reference"))
            {
                (table.ReferenceBatch, table.ReferenceBatchCpu) = await MeasureReferenceAsync("batch", batch, "/v1/batch", bo, 100);
                Console.WriteLine($"reference batch: {table.ReferenceBatch.PerSecond * 100:F0} events/s{table.ReferenceBatch.Errors}");
            }
            foreach (var store in stores)
            {
                var r = table[store];
                var name = BenchOptions.Name(store);
                await using (var service = await StartService("service-batch", store, partner.Url))
                {
                    await WarmUpAsync($"{name} batch", batch, service.Url + "/v1/batch", bo, 100);
                    (r.Batch, r.BatchCpu) = await MeasureAsync(service.Child, batch, service.Url + "/v1/batch", bo);
                }
                Console.WriteLine($"{name} batch: {r.Batch.PerSecond * 100:F0} events/s{r.Batch.Errors}; service CPU {r.BatchCpu:F1} s during the measured run");
            }
        }

        if (!o.Skip.Contains("rate"))
        {
            // The same open-loop loader against the bare-Kestrel baseline first: its p99 is the floor this machine, this
            // loader (HttpClient, Task.Delay scheduling) and loopback put under every service figure in the row.
            using (var baseline = await Child.StartAsync("baseline-rate", self, "baseline --urls {url}", new Dictionary<string, string>(), work, "/"))
            {
                if (o.WarmupSeconds > 0) await Loader.FixedRateAsync(baseline.Url + "/v1/track", Auth, o.Rate, o.WarmupSeconds, "rate-warmup");
                table.BaselineRate = await Loader.FixedRateAsync(baseline.Url + "/v1/track", Auth, o.Rate, o.DurationSeconds, "rate");
            }
            Console.WriteLine($"baseline fixed rate {o.Rate}/s: p50 {Loader.Percentile(table.BaselineRate.Value.LatenciesMs, 50):F2} ms, " +
                $"p99 {Loader.Percentile(table.BaselineRate.Value.LatenciesMs, 99):F2} ms, {table.BaselineRate.Value.Failures} failures");
            if (!o.Skip.Contains("reference"))
            {
                // The same loader against the durable reference: the tail one fsync'd group commit per acknowledgement costs here.
                var rr = await WithReferenceAsync(async reference =>
                {
                    (double[] LatenciesMs, int Failures) warm = ([], 0);
                    if (o.WarmupSeconds > 0)
                        warm = await Loader.FixedRateAsync(reference.Url + "/v1/track", Auth, o.Rate, o.WarmupSeconds, "rate-warmup");
                    var rate = await Loader.FixedRateAsync(reference.Url + "/v1/track", Auth, o.Rate, o.DurationSeconds, "rate");
                    return (rate, (long)(warm.LatenciesMs.Length - warm.Failures + rate.LatenciesMs.Length - rate.Failures));
                });
                table.ReferenceRate = rr;
                Console.WriteLine($"reference fixed rate {o.Rate}/s: p50 {Loader.Percentile(rr.LatenciesMs, 50):F2} ms, " +
                    $"p99 {Loader.Percentile(rr.LatenciesMs, 99):F2} ms, {rr.Failures} failures");
            }
            foreach (var store in stores)
            {
                var name = BenchOptions.Name(store);
                await using var service = await StartService("service-rate", store, partner.Url);
                if (o.WarmupSeconds > 0)
                {
                    var (warm, warmFailures) = await Loader.FixedRateAsync(service.Url + "/v1/track", Auth, o.Rate, o.WarmupSeconds, "rate-warmup");
                    Console.WriteLine($"  warm-up {name} fixed rate {o.Rate}/s ({o.WarmupSeconds} s, not measured): p50 {Loader.Percentile(warm, 50):F2} ms, " +
                        $"p99 {Loader.Percentile(warm, 99):F2} ms, {warmFailures} failures");
                }
                // Several runs in a row on the same warm service: the target is a p99 that holds, not one lucky run.
                for (var run = 1; run <= o.RateRuns; run++)
                {
                    var rate = await Loader.FixedRateAsync(service.Url + "/v1/track", Auth, o.Rate, o.DurationSeconds, "rate");
                    table[store].RateRuns.Add(rate);
                    Console.WriteLine($"{name} fixed rate {o.Rate}/s, run {run} of {o.RateRuns}: p50 {Loader.Percentile(rate.LatenciesMs, 50):F2} ms, " +
                        $"p99 {Loader.Percentile(rate.LatenciesMs, 99):F2} ms, {rate.Failures} failures");
                }
            }
        }

        if (!o.Skip.Contains("e2e"))
        {
            using var http = new HttpClient();
            foreach (var store in stores)
            {
                var name = BenchOptions.Name(store);
                await using var service = await StartService("service-e2e", store, partner.Url);
                var before = await PartnerItemsAsync(http, partner.Url);
                if (o.WarmupSeconds > 0)
                {
                    // Warm ingest and delivery with separate events (at most half the measured count, for at most the warm-up
                    // seconds), wait until the partner has counted them all, and only then take the baseline count and start the clock.
                    var warm = await Loader.PostEventsAsync(service.Url + "/v1/batch", Auth, Math.Max(100, o.EndToEndEvents / 2), 4, "e2e-warmup",
                        TimeSpan.FromSeconds(o.WarmupSeconds));
                    var wait = Stopwatch.StartNew();
                    long warmDelivered = 0;
                    while (wait.Elapsed < TimeSpan.FromSeconds(120))
                    {
                        warmDelivered = await PartnerItemsAsync(http, partner.Url) - before;
                        if (warmDelivered >= warm.Posted) break;
                        await Task.Delay(100);
                    }
                    Console.WriteLine($"  warm-up {name} end-to-end (not measured): {warm.Posted} events posted in {warm.Seconds:F1} s, " +
                        $"{warmDelivered} delivered {wait.Elapsed.TotalSeconds:F1} s later; excluded from the count below" +
                        (warmDelivered < warm.Posted ? " — NOT ALL DELIVERED within 120 s: late warm-up deliveries may inflate it" : ""));
                    before = await PartnerItemsAsync(http, partner.Url);
                }
                else Console.WriteLine($"  {name} end-to-end: not warmed (--warmup 0)");
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
                table[store].EndToEnd = (o.EndToEndEvents, posted.Posted, posted.Seconds, delivered, clock.Elapsed.TotalSeconds);
                Console.WriteLine($"{name} end-to-end: {posted.Posted} posted in {posted.Seconds:F1} s, {delivered} delivered after {clock.Elapsed.TotalSeconds:F1} s");
            }
        }

        if (!o.Skip.Contains("backlog"))
        {
            foreach (var store in stores)
            {
                var name = BenchOptions.Name(store);
                // The partner is down (a closed port): every delivery stays pending and backs off, so the whole backlog sits in the
                // queue. Not warmed: the figure is the memory of a fresh process holding exactly this backlog.
                await using var service = await StartService("service-backlog", store, "http://127.0.0.1:9");
                var idle = service.Child.Memory().Rss;
                var posted = await Loader.PostEventsAsync(service.Url + "/v1/batch", Auth, o.Backlog, 4, "backlog", TimeSpan.FromSeconds(400));
                await Task.Delay(5_000); // let the dispatcher claim, fail and back off over the backlog
                var (rss, peak) = service.Child.Memory();
                service.Stop(); // then the store's size (the service may hold all of PostgreSQL's connections)
                var db = await service.DatabaseMiBAsync();
                table[store].Backlog = (o.Backlog, posted.Posted, posted.Seconds, idle, rss, peak, db);
                Console.WriteLine($"{name} backlog (not warmed): {posted.Posted} events in {posted.Seconds:F1} s; RSS {rss:F0} MiB (peak {peak:F0}, idle {idle:F0}); DB {db:F0} MiB");
            }
        }

        var filterResults = new List<(StoreKind, FilterResult)>();
        if (!o.Skip.Contains("filters"))
        {
            // Ingest with destination filters against the same work without them, in one service (FilterScenario.cs says why).
            foreach (var store in stores)
            {
                await using var service = await StartService("service-filters", store, partner.Url, FilterScenario.Settings(partner.Url));
                filterResults.Add((store, await FilterScenario.RunAsync(service, partner.Url, root, o, wrkEnv, Auth, BatchConnections,
                    BenchOptions.Name(store))));
            }
        }

        if (!o.Skip.Contains("stages"))
        {
            // Where the time goes: the single and batch runs again with less of the pipeline behind the acknowledgement, each
            // against a fresh service, warmed like the others. The CPU the service used per event in each is the cost of what
            // that stage adds; the full pipeline is the single/batch rows above.
            var track = Path.Combine(root, "bench", "track.lua");
            var batch = Path.Combine(root, "bench", "batch.lua");
            var bo = o with { Connections = BatchConnections };
            foreach (var store in stores)
            {
                var name = BenchOptions.Name(store);
                foreach (var stage in Stage.Partial)
                {
                    var measured = new StageResult(stage);
                    await using (var service = await StartService($"service-{stage.Key}-single", store, partner.Url, stage.Environment))
                    {
                        await WarmUpAsync($"{name} single, {stage.Name}", track, service.Url + "/v1/track", o);
                        (measured.Single, measured.SingleCpu) = await MeasureAsync(service.Child, track, service.Url + "/v1/track", o);
                    }
                    await using (var service = await StartService($"service-{stage.Key}-batch", store, partner.Url, stage.Environment))
                    {
                        await WarmUpAsync($"{name} batch, {stage.Name}", batch, service.Url + "/v1/batch", bo, 100);
                        (measured.Batch, measured.BatchCpu) = await MeasureAsync(service.Child, batch, service.Url + "/v1/batch", bo);
                    }
                    table[store].Stages.Add(measured);
                    Console.WriteLine($"{name} {stage.Name}: single {measured.Single.PerSecond:F0} req/s{measured.Single.Errors} " +
                        $"(CPU {measured.SingleCpu:F1} s), batch {measured.Batch.PerSecond * 100:F0} events/s{measured.Batch.Errors} (CPU {measured.BatchCpu:F1} s)");
                }
            }
        }

        if (!o.Skip.Contains("ceiling") && stores.Contains(StoreKind.Sqlite))
        {
            // The SQLite store alone, in this process (StoreCeiling): what one writer acknowledges per second with this schema.
            var (events, readUs) = StoreCeiling.Read(o.CeilingEvents, o.CeilingEvents / 5, $"ceiling-{Environment.ProcessId}");
            Console.WriteLine($"ceiling: {events.Count} events read as 100-event batches on one thread, {readUs:F1} µs CPU per event (the last four fifths)");
            table.CeilingReadUsPerEvent = readUs;
            var routed = new Destinations.Core.Routing.RoutingDecision([new("salesmachine-bench", "track")], []);
            var nowhere = new Destinations.Core.Routing.RoutingDecision([], [new("salesmachine-bench", Destinations.Core.Delivery.FilterReason.SourceNotLinked)]);
            foreach (var (variant, routing) in new[] { ("the event row (routed)", routed), ("the event row without its body (routed nowhere)", nowhere) })
            {
                var result = await StoreCeiling.RunAsync(variant, Path.Combine(work, $"ceiling-{table.Ceiling.Count}"), events, events.Count / 5, routing);
                table.Ceiling.Add(result);
                Console.WriteLine($"ceiling, {variant}: {result.PerSecond:F0} events/s, group-commit thread {result.WriterUsPerEvent:F1} µs " +
                    $"and process {result.ProcessUsPerEvent:F1} µs CPU per event, {result.Commits} commits");
            }
        }

        Console.WriteLine();
        Console.WriteLine(table.Render(o));
        if (table.RenderStages() is { Length: > 0 } breakdown)
        {
            Console.WriteLine();
            Console.WriteLine(breakdown);
        }
        if (filterResults.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine(FilterResult.Render(filterResults));
        }
        Console.WriteLine($"warm-up: {(o.WarmupSeconds > 0 ? $"{o.WarmupSeconds} s unmeasured before every wrk and fixed-rate run; end-to-end warmed with separate events; backlog not warmed" : "none")}. " +
            "\"met\": the targets are on SQLite; single and batch ingest have their own on PostgreSQL.");
        Directory.Delete(work, recursive: true);
        return 0;
    }

    /// <summary>The rows a stopped reference left in its file (ids are 1, 2, … with no deletes: the largest is the count).</summary>
    static long ReferenceRows(string file)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString());
        connection.Open();
        using var max = connection.CreateCommand();
        max.CommandText = "SELECT coalesce(max(id), 0) FROM events";
        return (long)max.ExecuteScalar()!;
    }

    static async Task<long> PartnerItemsAsync(HttpClient http, string url) =>
        (await http.GetFromJsonAsync<PartnerStats>(url + "/stats"))!.Items;

    sealed record PartnerStats(long Requests, long Items);
}
