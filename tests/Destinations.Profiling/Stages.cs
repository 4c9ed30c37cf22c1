using Destinations.Core.Configuration;
using Destinations.Core.Diagnostics;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Destinations.Host.Ingress;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Destinations.Profiling;

/// <summary>
/// Each stage of one /v1/track request, called N times in a row on one thread with the service's own objects (from its
/// container): thread CPU per call and bytes allocated per call. Stages overlap where noted (the reader includes the
/// parse and the validator), so the rows are not meant to add up.
/// </summary>
static class Stages
{
    /// <summary>With <paramref name="only"/>, just the stages whose name starts with it (e.g. to run one under perf).</summary>
    public static async Task<int> RunAsync(int n, string? only = null)
    {
        s_only = only;
        var directory = Directory.CreateTempSubdirectory("destinations-profile-").FullName;
        try
        {
            await using var app = new ServiceInMemory(directory);
            var services = app.Services;
            var bodies = TrackEvent.Bodies(1024);
            var reader = services.GetRequiredService<SegmentPayloadReader>();
            var validator = new SegmentEventValidator();
            var router = services.GetRequiredService<Router>();
            var authenticator = services.GetRequiredService<SourceAuthenticator>();
            var flow = services.GetRequiredService<IngressFlow>();
            var metrics = services.GetRequiredService<DestinationsMetrics>();
            var source = services.GetRequiredService<DestinationRegistry>().FindSource("web")!;
            var sample = reader.ReadTrackingApiEvent(bodies[0], CallTypes.Track);
            var sampleEvent = sample.Events[0].Event ?? throw new InvalidOperationException("the profile event is not valid");

            Console.WriteLine($"stage (one /v1/track event of {bodies[0].Length} bytes, routed nowhere; N = {n:N0})      CPU µs/call   bytes/call");
            Measure(n, "auth: Basic header → write key → source", i =>
            {
                var http = Request(bodies[i & 1023], services);
                authenticator.FindByWriteKey(SourceAuthenticator.WriteKeyFromHeader(http.Request));
            }, baseline: i => Request(bodies[i & 1023], services));
            await MeasureAsync(n, "body: read into a pooled buffer", async i =>
            {
                var http = Request(bodies[i & 1023], services);
                var body = await RequestBodyReader.ReadAsync(http.Request, 1 << 20, CancellationToken.None);
                if (body.Problem is not null) throw new InvalidOperationException("body refused");
                await ((Completing)http.Features.Get<IHttpResponseFeature>()!).CompleteAsync();
            }, baseline: i => Request(bodies[i & 1023], services));
            Measure(n, "JsonBody.TryParse (UTF-8 check, syntax scan, document)", i =>
            {
                JsonBody.TryParse(bodies[i & 1023], out var document, out _, out _);
                document!.Dispose();
            });
            Measure(n, "reader: ReadTrackingApiEvent (parse + event + validator)", i =>
            {
                if (!reader.ReadTrackingApiEvent(bodies[i & 1023], CallTypes.Track).Events[0].IsValid) throw new InvalidOperationException("invalid");
            });
            var batches = Enumerable.Range(0, 16).Select(b => System.Text.Encoding.UTF8.GetBytes(
                "{\"batch\":[" + string.Join(",", Enumerable.Range(0, 100).Select(i => System.Text.Encoding.UTF8.GetString(bodies[(b * 100 + i) & 1023]))) + "]}"))
                .ToArray();
            Measure(n / 100, "reader, batch of 100: ReadBatch ÷ 100 (µs and bytes per event)", i =>
            {
                if (reader.ReadBatch(batches[i & 15]).Events.Count != 100) throw new InvalidOperationException("batch not read");
            }, perCall: 100);
            var eventReader = services.GetRequiredService<SegmentEventReader>();
            var parsed = bodies.Select(b => System.Text.Json.JsonDocument.Parse(b)).ToArray();
            Measure(n, "  of which event: SegmentEventReader.Read (checks, normalised copy, validator)", i =>
            {
                if (!eventReader.Read(parsed[i & 1023].RootElement, 0, CallTypes.Track, "", null).IsValid) throw new InvalidOperationException("invalid");
            });
            Measure(n, "  of which validator (FluentValidation rules)", _ => validator.Validate(sampleEvent));
            var clock = services.GetRequiredService<TimeProvider>();
            Measure(n, "  of which clock: TimeProvider.GetUtcNow (receivedAt)", _ => clock.GetUtcNow());
            Measure(n, "  of which clock: Stopwatch.GetTimestamp", _ => System.Diagnostics.Stopwatch.GetTimestamp());
            Measure(n, "route (one instance, source not linked)", _ => router.Route(source.Id, sampleEvent));
            // Destination filters at routing: each call routes a freshly read event (an event caches its DOM, which the FQL
            // conditions need), with the read as the baseline subtracted; the same instance without filters for comparison.
            var registry = services.GetRequiredService<DestinationRegistry>();
            var filterErrors = new List<string>();
            var filters = DestinationFilterReader.Read(new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Filters:0:drop"] = "event = \"Test Event\" or contains(context.page.url, \"staging.\")",
                    ["Filters:1:only"] = "type = \"track\" or type = \"identify\"",
                    ["Filters:2:sample"] = "99.99",
                    ["Filters:2:by"] = "userId",
                }).Build().GetSection("Filters"), "Destinations[0]", "salesmachine-profile", filterErrors);
            if (filterErrors.Count > 0) throw new InvalidOperationException(string.Join("; ", filterErrors));
            var linked = new Router(new DestinationRegistry(registry.Sources, [(registry.Destinations[0], null)], []));
            var filtered = new Router(new DestinationRegistry(registry.Sources, [(registry.Destinations[0], null)], [], null,
                new Dictionary<string, InstanceFilters> { [registry.Destinations[0].Id] = filters }));
            SegmentEvent Fresh(int i) => reader.ReadTrackingApiEvent(bodies[i & 1023], CallTypes.Track).Events[0].Event!;
            Measure(n, "route (one instance, linked, no filters)", i => linked.Route(source.Id, Fresh(i)), baseline: i => Fresh(i));
            var typed = new Router(new DestinationRegistry(registry.Sources, [(registry.Destinations[0], null)], [], null,
                new Dictionary<string, InstanceFilters> { [registry.Destinations[0].Id] = new InstanceFilters([filters.All[1]]) }));
            Measure(n, "route (one instance, linked, only: type = … or type = …, no JSON read)", i => typed.Route(source.Id, Fresh(i)), baseline: i => Fresh(i));
            Measure(n, "route (one instance, linked, drop on context.page.url + only + sample 99.99% by userId)", i => filtered.Route(source.Id, Fresh(i)), baseline: i => Fresh(i));
            // The filters alone on events read once (an event read at the ingress keeps no copy, so each call reads its
            // JSON again): no baseline to subtract.
            var read = bodies.Select((_, i) => Fresh(i)).ToArray();
            Measure(n, "filters: Dropping (drop on context.page.url + only + sample), on a read event", i => filters.Dropping(read[i & 1023]));
            var conditionFields = ConditionFields.Of(filters.EventFilters.OfType<ConditionFilter>().Select(f => f.Condition))!;
            Measure(n, "filters: of which the sparse copy (ConditionFields.Extract)", i => conditionFields.Extract(read[i & 1023]));
            // Delivery side: the dispatcher maps each stored event through the registry, where the property filters act on
            // the event's DOM. The same stored body without and with the bench's dropProperties (context.ip, properties.email).
            var propertyFilters = DestinationFilterReader.Read(new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Filters:0:dropProperties:0"] = "context.ip",
                    ["Filters:0:dropProperties:1"] = "properties.email",
                }).Build().GetSection("Filters"), "Destinations[0]", "salesmachine-profile", filterErrors);
            if (filterErrors.Count > 0) throw new InvalidOperationException(string.Join("; ", filterErrors));
            var plain = new DestinationRegistry(registry.Sources, [(registry.Destinations[0], null)], []);
            var dropping = new DestinationRegistry(registry.Sources, [(registry.Destinations[0], null)], [], null,
                new Dictionary<string, InstanceFilters> { [registry.Destinations[0].Id] = propertyFilters });
            var stored = bodies.Select((_, i) => Fresh(i).ToJsonString()).ToArray();
            var subscription = linked.Route(source.Id, Fresh(0)).Deliveries[0].Subscription;
            Measure(n, "map: stored event → mapper (FromStored + registry.Map), no filters",
                i => plain.Map(plain.Destinations[0], SegmentEvent.FromStored(stored[i & 1023]), subscription));
            Measure(n, "map: stored event → mapper (FromStored + registry.Map), dropProperties ×2",
                i => dropping.Map(dropping.Destinations[0], SegmentEvent.FromStored(stored[i & 1023]), subscription));
            await MeasureAsync(n, "flow: IngressFlow.AcceptAsync (store answers at once)", async _ =>
            {
                var http = new DefaultHttpContext { RequestServices = services };
                await flow.AcceptAsync(http, source, sample, CancellationToken.None);
            });
            var answer = await flow.AcceptAsync(new DefaultHttpContext { RequestServices = services }, source, sample, CancellationToken.None);
            await MeasureAsync(n, "answer: write {\"success\":true}", async _ =>
            {
                var http = new DefaultHttpContext { RequestServices = services };
                http.Response.Body = Stream.Null;
                await answer.ExecuteAsync(http);
            }, baseline: _ => new DefaultHttpContext { RequestServices = services });
            Measure(n, "metrics: ingress request counter", _ => metrics.IngressRequest("/v1/track", 200));
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    static DefaultHttpContext Request(byte[] body, IServiceProvider services)
    {
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(new HttpRequestFeature());
        features.Set<IHttpResponseFeature>(new Completing());
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        var http = new DefaultHttpContext(features) { RequestServices = services };
        http.Request.Method = "POST";
        http.Request.Path = "/v1/track";
        http.Request.ContentType = "application/json";
        http.Request.ContentLength = body.Length;
        http.Request.Headers.Authorization = TrackEvent.BasicAuthorization;
        http.Request.Body = new MemoryStream(body, writable: false);
        return http;
    }

    /// <summary>Runs the response's on-completed callbacks (where the pooled body buffer goes back), as the server does.</summary>
    sealed class Completing : HttpResponseFeature
    {
        readonly List<(Func<object, Task> Callback, object State)> _completed = [];

        public override void OnCompleted(Func<object, Task> callback, object state) => _completed.Add((callback, state));

        public async Task CompleteAsync()
        {
            foreach (var (callback, state) in _completed) await callback(state);
            _completed.Clear();
        }
    }

    static string? s_only;

    static void Measure(int n, string name, Action<int> stage, Action<int>? baseline = null, int perCall = 1) =>
        MeasureAsync(n, name, i => { stage(i); return Task.CompletedTask; }, baseline, perCall).GetAwaiter().GetResult();

    /// <summary>Warm-up, then N calls; with a <paramref name="baseline"/> (setting up the call's input), its own cost is
    /// measured the same way and subtracted. <paramref name="perCall"/>: events per call (the figures are per event).</summary>
    static async Task MeasureAsync(int n, string name, Func<int, Task> stage, Action<int>? baseline = null, int perCall = 1)
    {
        if (s_only is not null && !name.StartsWith(s_only, StringComparison.Ordinal)) return;
        var (cpu, bytes) = await TimeAsync(n, stage);
        if (baseline is not null)
        {
            var (baseCpu, baseBytes) = await TimeAsync(n, i => { baseline(i); return Task.CompletedTask; });
            cpu -= baseCpu;
            bytes -= baseBytes;
        }
        Console.WriteLine($"{name,-90} {cpu / perCall,8:F2} {bytes / perCall,10:N0}");
    }

    static async Task<(double CpuMicroseconds, double Bytes)> TimeAsync(int n, Func<int, Task> stage)
    {
        for (var i = 0; i < Math.Min(n, 20_000); i++) await stage(i);
        var thread = Environment.CurrentManagedThreadId;
        var cpu = CpuClock.ThreadNanoseconds();
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < n; i++)
        {
            var task = stage(i);
            if (!task.IsCompleted) throw new InvalidOperationException("a stage went asynchronous: its CPU would be counted on another thread");
            await task;
        }
        if (Environment.CurrentManagedThreadId != thread) throw new InvalidOperationException("moved threads");
        return ((CpuClock.ThreadNanoseconds() - cpu) / 1000.0 / n, (double)(GC.GetAllocatedBytesForCurrentThread() - bytes) / n);
    }
}
