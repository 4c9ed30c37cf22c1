using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Destinations.Core.Configuration;
using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Destinations.Salesmachine;

namespace Destinations.Benchmarks;

/// <summary>
/// What the dispatcher spends mapping a claimed event for Salesmachine, in this process on one thread: the stored body
/// (as the ingress reader wrote it) → <see cref="SegmentEvent.FromStored(string)"/> → <see cref="DestinationRegistry.Map"/>
/// (no filters) → the <c>/v1/batch</c> body of each chunk of <see cref="ChunkEvents"/> events written to UTF-8, as the partner
/// client writes it. No store, no HTTP: the figure is the mapping's own CPU and allocation per event. Then the same with
/// an instance that has <c>dropProperties</c> (context.ip, properties.email): filtered on the stored bytes as delivery does,
/// and with the event's DOM built first, the path an event with a DOM takes (and every stored event took before).
/// Then the other partners (MapCost.Partners.cs); <c>--partner smc|um|wh|all</c> measures only those.
/// </summary>
public static partial class MapCost
{
    /// <summary>Events whose requests share one batch body, about what a claim hands the sender per instance.</summary>
    public const int ChunkEvents = 50;

    /// <summary>Segment fixtures of the core tests, the calls a Salesmachine instance mostly gets.</summary>
    static readonly (string Label, string File, string PathType)[] Fixtures =
    [
        ("track", "track.json", "track"),
        ("identify", "identify.json", "identify"),
        ("page", "page-named.json", "page"),
    ];

    public static int Run(string[] args)
    {
        var events = Option(args, "--events", 200_000);
        var warm = Option(args, "--warm", 50_000);
        var root = Repository.Root();
        var only = args.SkipWhile(a => a != "--partner").Skip(1).FirstOrDefault();
        if (only is not null) return RunPartners(only, events, warm, root);
        var registry = Registry(filtered: false);
        var filteredRegistry = Registry(filtered: true);
        var destination = registry.Destinations[0];
        Console.WriteLine($"mapcost: {events} events per row after {warm} unmeasured, chunks of {ChunkEvents}, one thread " +
                          $"(tiered JIT {(Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") == "0" ? "off" : "on")})");
        Console.WriteLine($"{"event",-10} {"body B",7} {"CPU µs/event",13} {"wall µs/event",14} {"alloc B/event",14} {"batch B/event",14}" +
                          $" {"read µs",8} {"+map µs",8}");
        var mixed = new List<string>();
        foreach (var (label, file, pathType) in Fixtures)
        {
            var stored = Stored(Path.Combine(root, "tests", "Destinations.Core.Tests", "Fixtures", "segment", file), pathType);
            mixed.Add(stored);
            Print(label, [stored]);
        }
        Print("mixed", mixed);
        var filteredDestination = filteredRegistry.Destinations[0];
        foreach (var dom in new[] { false, true })
        {
            Console.WriteLine(dom ? "dropProperties context.ip, properties.email; the DOM built first:" : "dropProperties context.ip, properties.email; on the stored bytes:");
            for (var i = 0; i < Fixtures.Length; i++) PrintFiltered(Fixtures[i].Label, [mixed[i]], dom);
            PrintFiltered("mixed", mixed, dom);
        }
        return RunPartners("all", events, warm, root);

        void PrintFiltered(string label, IReadOnlyList<string> bodies, bool dom)
        {
            var f = Measure(filteredRegistry, filteredDestination, bodies, events, warm, Stage.All, dom);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label,-10} {(int)bodies.Average(b => b.Length),7} {f.CpuUs,13:F2} {f.WallUs,14:F2} {f.AllocBytes,14:F0} {f.BatchBytes,14:F0} {"-",8} {"-",8}"));
        }

        // Where the time goes: the read (FromStored) alone and read + map again, after the whole path.
        void Print(string label, IReadOnlyList<string> bodies)
        {
            var f = Measure(registry, destination, bodies, events, warm, Stage.All);
            var read = Measure(registry, destination, bodies, events, warm, Stage.Read);
            var map = Measure(registry, destination, bodies, events, warm, Stage.Map);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label,-10} {(int)bodies.Average(b => b.Length),7} {f.CpuUs,13:F2} {f.WallUs,14:F2} {f.AllocBytes,14:F0} {f.BatchBytes,14:F0} {read.CpuUs,8:F2} {map.CpuUs,8:F2}"));
        }
    }

    /// <summary>How far each event goes: read back (FromStored), also mapped, or also written into its chunk's batch body.</summary>
    enum Stage { Read, Map, All }

    sealed record Figures(double CpuUs, double WallUs, double AllocBytes, double BatchBytes);

    /// <summary>The event as the store keeps it: the ingress reader's normalised JSON (receivedAt set, ids as strings).</summary>
    static string Stored(string fixture, string pathType)
    {
        var read = new SegmentPayloadReader().ReadTrackingApiEvent(File.ReadAllBytes(fixture), pathType);
        var e = read.Events.Single().Event ?? throw new InvalidOperationException($"{fixture} was rejected");
        return Encoding.UTF8.GetString(e.ToUtf8Json().Span);
    }

    static DestinationRegistry Registry(bool filtered)
    {
        var settings = new SalesmachineSettings { ApiToken = "bench-token", ApiSecret = "bench-secret", BaseUrl = new Uri("http://127.0.0.1:9") };
        var destination = new SalesmachineDestination("sm-bench", settings,
            () => throw new InvalidOperationException("mapcost sends nothing"));
        var filters = new Dictionary<string, InstanceFilters>(StringComparer.Ordinal);
        if (filtered)
            filters[destination.Id] = new InstanceFilters([new DropPropertiesFilter(0,
                [FieldPath.TryParse("context.ip", out _)!, FieldPath.TryParse("properties.email", out _)!])]);
        return new DestinationRegistry([new SourceOptions { Id = "web", AllowUnsigned = true }], [(destination, null)], [], filters: filters);
    }

    /// <summary>Maps <paramref name="warm"/> events unmeasured, then <paramref name="events"/> measured, cycling through
    /// distinct string copies of <paramref name="bodies"/> (a claimed row's body is a fresh string).</summary>
    static Figures Measure(DestinationRegistry registry, IDestination destination, IReadOnlyList<string> bodies, int events, int warm, Stage stage,
        bool dom = false, Func<string, string>? subscriptionOf = null, Func<List<PartnerRequest>, ArrayBufferWriter<byte>, long>? write = null)
    {
        var rows = new string[Math.Max(bodies.Count, 1024 / bodies.Count * bodies.Count)];
        for (var i = 0; i < rows.Length; i++) rows[i] = new string(bodies[i % bodies.Count].AsSpan());
        subscriptionOf ??= type => type;
        var subscriptions = rows.Select(r => subscriptionOf(JsonDocument.Parse(r).RootElement.GetProperty("type").GetString()!)).ToArray();
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        write ??= SalesmachineBatchBytes;

        long batchBytes = 0;
        void Chunks(int count)
        {
            var requests = new List<PartnerRequest>(2 * ChunkEvents);
            for (var done = 0; done < count; )
            {
                requests.Clear();
                for (var n = 0; n < ChunkEvents && done < count; n++, done++)
                {
                    var row = done % rows.Length;
                    if (stage == Stage.Read)
                    {
                        if (SegmentEvent.FromStored(rows[row]).Type.Length == 0) throw new InvalidOperationException("no type");
                        continue;
                    }
                    var e = SegmentEvent.FromStored(rows[row]);
                    if (dom && e.Json.Count == 0) throw new InvalidOperationException("empty event");
                    var mapping = registry.Map(destination, e, subscriptions[row]).Result;
                    if (mapping.Outcome != MappingOutcome.Send) throw new InvalidOperationException($"not sent: {mapping.Outcome} {mapping.Reason}");
                    requests.AddRange(mapping.Requests);
                }
                if (stage != Stage.All) continue;
                batchBytes += write(requests, buffer);
            }
        }

        Chunks(warm);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        batchBytes = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var cpu = ThreadCpuSeconds();
        var clock = Stopwatch.StartNew();
        Chunks(events);
        var wall = clock.Elapsed.TotalSeconds;
        cpu = ThreadCpuSeconds() - cpu;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        return new Figures(cpu * 1e6 / events, wall * 1e6 / events, (double)allocated / events, (double)batchBytes / events);
    }

    /// <summary>The chunk's <c>/v1/batch</c> body written to UTF-8, as the Salesmachine client writes it.</summary>
    static long SalesmachineBatchBytes(List<PartnerRequest> requests, ArrayBufferWriter<byte> buffer)
    {
        var batch = SalesmachineBatch.Request(requests);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer)) batch.Body!.WriteTo(writer);
        return buffer.WrittenCount;
    }

    static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>CPU seconds (user + system) of the calling OS thread from /proc; NaN where /proc is not there.</summary>
    static double ThreadCpuSeconds()
    {
        if (!File.Exists("/proc/thread-self/stat")) return double.NaN;
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
