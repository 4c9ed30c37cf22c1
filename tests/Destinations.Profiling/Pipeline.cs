using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;

namespace Destinations.Profiling;

/// <summary>
/// Whole POST /v1/track requests through the service's middleware, routing and endpoint, in memory (TestServer: no
/// sockets, no HTTP parsing), against the same requests to a bare app that parses the body and answers 200 (the
/// benchmark's baseline, in memory too). Process CPU and bytes allocated per request; the difference is what the
/// service's pipeline adds on top of what any ASP.NET Core endpoint costs. The client's side is in both figures alike.
/// </summary>
static class Pipeline
{
    static readonly byte[] Ok = """{"success":true}"""u8.ToArray();

    public static async Task<int> RunAsync(int n, int concurrency, bool sqlite, bool filters = false, bool allocations = false)
    {
        s_sampler = allocations ? new AllocationSampler() : null;
        var directory = Directory.CreateTempSubdirectory("destinations-profile-").FullName;
        try
        {
            await using var service = new ServiceInMemory(directory, sqlite);
            using var serviceClient = service.CreateClient();
            // --filters: two more services with the instance linked to the profile's source (every event routed), without
            // and with the benchmark's destination filters (tests/Destinations.Benchmarks/FilterScenario.cs).
            Directory.CreateDirectory(Path.Combine(directory, "linked"));
            Directory.CreateDirectory(Path.Combine(directory, "filtered"));
            await using var linked = filters ? new ServiceInMemory(Path.Combine(directory, "linked"), sqlite, Linked(false)) : null;
            await using var filtered = filters ? new ServiceInMemory(Path.Combine(directory, "filtered"), sqlite, Linked(true)) : null;
            using var linkedClient = linked?.CreateClient();
            using var filteredClient = filtered?.CreateClient();
            await using var bare = await BareAsync();
            using var bareClient = bare.GetTestClient();
            var store = sqlite ? "SQLite store" : "store answers at once";
            Console.WriteLine($"whole request (POST /v1/track, {TrackEvent.Body("x").Length} bytes, routed nowhere; N = {n:N0}, {concurrency} at a time)   CPU µs/req   bytes/req");
            // Alternated, so a burst of load from other processes on the machine lands on both; the first round (JIT tiering,
            // pools filling) is not shown.
            for (var round = 0; round < 3; round++)
            {
                await MeasureAsync(n, concurrency, $"r{round}", "bare app (parse, 200)", bareClient, show: round > 0);
                await MeasureAsync(n, concurrency, $"r{round}", $"service (routed nowhere, {store})", serviceClient, show: round > 0);
                if (linkedClient is null || filteredClient is null) continue;
                await MeasureAsync(n, concurrency, $"r{round}", $"service (routed, bench filters, {store})", filteredClient, show: round > 0);
                await MeasureAsync(n, concurrency, $"r{round}", $"service (routed, no filters, {store})", linkedClient, show: round > 0);
            }
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    static Dictionary<string, string?> Linked(bool filters)
    {
        var settings = new Dictionary<string, string?> { ["Destinations:0:Sources:0"] = "web" };
        if (!filters) return settings;
        // The benchmark's filters scenario's list (tests/Destinations.Benchmarks/FilterScenario.cs): every event still routed.
        settings["Destinations:0:Filters:0:drop"] = "event = \"Test Event\" or contains(context.page.url, \"staging.\")";
        settings["Destinations:0:Filters:1:only"] = "type = \"track\" or type = \"identify\"";
        settings["Destinations:0:Filters:2:sample"] = "99.99";
        settings["Destinations:0:Filters:2:by"] = "userId";
        settings["Destinations:0:Filters:3:dropProperties:0"] = "context.ip";
        settings["Destinations:0:Filters:3:dropProperties:1"] = "properties.email";
        return settings;
    }

    static async Task<WebApplication> BareAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseTestServer();
        var app = builder.Build();
        app.MapPost("/v1/{**rest}", async (HttpContext http) =>
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(Ok, http.RequestAborted);
        });
        await app.StartAsync();
        return app;
    }

    /// <summary>Each request's body is made just before it is sent (unique ids for a store that dedupes), in both apps alike.</summary>
    static async Task MeasureAsync(int n, int concurrency, string round, string name, HttpClient client, bool show)
    {
        await RunAsync(Math.Min(n, 20_000), concurrency, $"{round}-warm", client);
        GC.Collect();
        var cpu = CpuClock.Process();
        var bytes = GC.GetTotalAllocatedBytes(precise: true);
        if (show) s_sampler?.Start();
        await RunAsync(n, concurrency, round, client);
        var cpuMicroseconds = (CpuClock.Process() - cpu).TotalMicroseconds / n;
        var perRequest = (double)(GC.GetTotalAllocatedBytes(precise: true) - bytes) / n;
        if (show) Console.WriteLine($"{name,-90} {cpuMicroseconds,8:F1} {perRequest,10:N0}");
        if (show) s_sampler?.Print(n);
    }

    /// <summary>With --allocations: which types each measured run allocates (its own CPU makes the CPU column meaningless).</summary>
    static AllocationSampler? s_sampler;

    static async Task RunAsync(int n, int concurrency, string round, HttpClient client)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < n; i = Interlocked.Increment(ref next))
                await SendAsync(client, TrackEvent.Body($"{round}-{i}"));
        }));
    }

    static async Task SendAsync(HttpClient client, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/track") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Authorization", TrackEvent.BasicAuthorization);
        using var response = await client.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        await response.Content.CopyToAsync(Stream.Null);
    }
}
