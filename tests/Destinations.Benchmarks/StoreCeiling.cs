using System.Diagnostics;
using System.Globalization;
using System.Text;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Destinations.Core.Storage;
using Destinations.Storage;
using Destinations.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Destinations.Benchmarks;

/// <summary>
/// The SQLite event store alone, in this process: no HTTP, no authentication, no dispatcher. Events are read up front (the
/// read itself is timed on one thread: what parsing, normalising and validating costs per event), then concurrent callers
/// hand the store 100-event requests as fast as it takes them. The store's own group-commit thread is timed from
/// /proc/self/task: that thread is the one SQLite writer every acknowledged event goes through, so its CPU time per event
/// bounds what any front end can acknowledge durably with this schema.
/// </summary>
public static class StoreCeiling
{
    /// <summary>The event of bench/common.lua (the wrk scripts), ~900 bytes, with a unique messageId and userId.</summary>
    const string Template = """{"type":"track","channel":"browser","context":{"ip":"198.51.100.23","userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36","locale":"en-US","library":{"name":"analytics.js","version":"next-1.70.0"},"page":{"path":"/pricing","referrer":"https://www.example.org/","search":"?plan=pro","title":"Pricing","url":"https://app.example.com/pricing?plan=pro"},"timezone":"Europe/Amsterdam"},"integrations":{},"originalTimestamp":"2026-11-20T10:15:30.120Z","sentAt":"2026-11-20T10:15:30.500Z","timestamp":"2026-11-20T10:15:30.622Z","messageId":"bench-{0}","anonymousId":"5a6c2e74-0b8e-4f4a-9d2c-7b1c1f0e9a11","userId":"user-{0}","event":"Order Completed","properties":{"order_id":"ord_1009","total":129.9,"revenue":119.9,"currency":"EUR","products":[{"product_id":"sku_1","name":"Seat","price":59.95,"quantity":2}]}}""";

    public const int EventsPerRequest = 100;
    public const int Callers = 16;

    public sealed record Result(string Variant, int Events, double Seconds, double ProcessCpuSeconds, double WriterCpuSeconds, long Commits)
    {
        public double PerSecond => Events / Seconds;
        public double WriterUsPerEvent => WriterCpuSeconds * 1e6 / Events;
        public double ProcessUsPerEvent => ProcessCpuSeconds * 1e6 / Events;
    }

    /// <summary>Reads <paramref name="events"/> events as 100-event /v1/batch bodies on this thread; returns them and the CPU µs
    /// per event of the read, timed over the events after the first <paramref name="warm"/> (the JIT's tiers first). The
    /// bodies are made a chunk at a time before the chunk's reads are timed, so making them is not counted.</summary>
    public static (List<SegmentEvent> Events, double ReadUsPerEvent) Read(int events, int warm, string prefix)
    {
        const int batchesPerChunk = 200;
        var reader = new SegmentPayloadReader();
        var all = new List<SegmentEvent>(events);
        var sb = new StringBuilder(EventsPerRequest * 1000);
        var bodies = new List<(byte[] Body, int Count)>(batchesPerChunk);
        double used = 0;
        var timed = 0;
        for (var b = 0; b * EventsPerRequest < events; )
        {
            bodies.Clear();
            var measured = b * EventsPerRequest >= warm;
            for (; bodies.Count < batchesPerChunk && b * EventsPerRequest < events; b++)
            {
                sb.Clear().Append("{\"batch\":[");
                var count = Math.Min(EventsPerRequest, events - b * EventsPerRequest);
                for (var i = 0; i < count; i++)
                    sb.Append(i == 0 ? "" : ",").Append(Template.Replace("{0}", $"{prefix}-{b * EventsPerRequest + i}", StringComparison.Ordinal));
                sb.Append("]}");
                bodies.Add((Encoding.UTF8.GetBytes(sb.ToString()), count));
            }
            var cpu = ThreadCpuSeconds();
            var results = new List<PayloadReadResult>(bodies.Count);
            foreach (var (body, _) in bodies) results.Add(reader.ReadBatch(body));
            if (measured)
            {
                used += ThreadCpuSeconds() - cpu;
                timed += bodies.Sum(x => x.Count);
            }
            foreach (var result in results)
            foreach (var e in result.Events)
                all.Add(e.Event ?? throw new InvalidOperationException($"the ceiling's event was rejected: {e.Errors[0].Message}"));
        }
        return (all, timed == 0 || double.IsNaN(used) ? double.NaN : used * 1e6 / timed);
    }

    /// <summary>Accepts <paramref name="events"/> into a fresh SQLite file in <paramref name="dir"/>: the first
    /// <paramref name="warm"/> unmeasured (JIT, a non-empty file), the rest measured.</summary>
    public static async Task<Result> RunAsync(string variant, string dir, IReadOnlyList<SegmentEvent> events, int warm, RoutingDecision routing)
    {
        Directory.CreateDirectory(dir);
        var db = new SqliteDatabase($"Data Source={Path.Combine(dir, "destinations.db")}");
        var store = new SqliteEventStore(db, Options.Create(new StorageOptions()), TimeProvider.System, new DispatchSignal(),
            NullLogger<SqliteEventStore>.Instance);
        try
        {
            var requests = new List<IncomingEvent[]>();
            for (var start = 0; start < events.Count; start += EventsPerRequest)
            {
                var count = Math.Min(EventsPerRequest, events.Count - start);
                var request = new IncomingEvent[count];
                for (var i = 0; i < count; i++) request[i] = new IncomingEvent("web", events[start + i], routing);
                requests.Add(request);
            }
            var warmRequests = warm / EventsPerRequest;
            await AcceptAllAsync(store, requests, 0, warmRequests);

            var commits = store.CommitCount;
            var writer = WriterCpuSeconds();
            var process = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
            var clock = Stopwatch.StartNew();
            var accepted = await AcceptAllAsync(store, requests, warmRequests, requests.Count);
            var seconds = clock.Elapsed.TotalSeconds;
            return new Result(variant, accepted, seconds,
                Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - process, WriterCpuSeconds() - writer, store.CommitCount - commits);
        }
        finally
        {
            await store.DisposeAsync();
        }
    }

    static async Task<int> AcceptAllAsync(SqliteEventStore store, List<IncomingEvent[]> requests, int from, int to)
    {
        var next = from - 1;
        var stored = 0;
        async Task CallerAsync()
        {
            int r;
            while ((r = Interlocked.Increment(ref next)) < to)
            {
                var statuses = await store.AcceptAsync(requests[r], CancellationToken.None);
                var n = 0;
                foreach (var s in statuses) if (s == AcceptStatus.Stored) n++;
                if (n != requests[r].Length) throw new InvalidOperationException($"request {r}: {n} of {requests[r].Length} stored");
                Interlocked.Add(ref stored, n);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(CallerAsync)));
        return stored;
    }

    /// <summary>CPU seconds of this process's threads named "SQLite group co…" (the store's writer; Linux truncates thread
    /// names to 15 characters); NaN where /proc is not there.</summary>
    static double WriterCpuSeconds()
    {
        if (!Directory.Exists("/proc/self/task")) return double.NaN;
        double total = 0;
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith("SQLite group co", StringComparison.Ordinal)) continue;
                total += TaskCpuSeconds(File.ReadAllText(Path.Combine(task, "stat")));
            }
            catch (IOException) { } // the thread ended meanwhile
        }
        return total;
    }

    /// <summary>CPU seconds of the calling OS thread; NaN where /proc is not there.</summary>
    static double ThreadCpuSeconds() =>
        File.Exists("/proc/thread-self/stat") ? TaskCpuSeconds(File.ReadAllText("/proc/thread-self/stat")) : double.NaN;

    /// <summary>utime + stime of a /proc/…/stat line (fields 14 and 15, after the parenthesised name), in seconds.</summary>
    static double TaskCpuSeconds(string stat)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime is field 14 → index 11, stime field 15 → index 12. Clock ticks of 1/100 s.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
