using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Destinations.Torture.Tests;

/// <summary>What the fake partner does with one request.</summary>
public enum PartnerFault { None, Status500, Status503, Status429, Timeout, Reset, Slow10s }

/// <summary>
/// A loopback Salesmachine: accepts /v1/contact, /v1/track/event, /v1/account and /v1/batch and records, per contact_uid,
/// when it answered 2xx (for a batch body every item counts). Faults come from a caller-supplied chooser (a seeded Random
/// in the tests, so runs are deterministic in what is injected, if not in timing).
/// </summary>
public sealed class FakePartner : IAsyncDisposable
{
    static readonly HashSet<string> Paths = ["/v1/contact", "/v1/track/event", "/v1/account", "/v1/batch"];

    readonly WebApplication _app;
    readonly Func<PartnerFault> _chooseFault;
    readonly ConcurrentDictionary<string, ConcurrentQueue<long>> _delivered = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<PartnerFault, int> _faults = new();
    readonly Stopwatch _clock = Stopwatch.StartNew();

    FakePartner(WebApplication app, Func<PartnerFault> chooseFault)
    {
        _app = app;
        _chooseFault = chooseFault;
    }

    public string Url { get; private set; } = "";

    /// <summary>Milliseconds since the partner started: the clock of <see cref="DeliveryTimes"/>.</summary>
    public long Now => _clock.ElapsedMilliseconds;

    public static async Task<FakePartner> StartAsync(Func<PartnerFault>? chooseFault = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var partner = new FakePartner(app, chooseFault ?? (() => PartnerFault.None));
        app.Run(partner.HandleAsync);
        await app.StartAsync();
        partner.Url = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return partner;
    }

    /// <summary>How many times each contact_uid was answered with 2xx.</summary>
    public IReadOnlyDictionary<string, int> DeliveryCounts() => _delivered.ToDictionary(kv => kv.Key, kv => kv.Value.Count, StringComparer.Ordinal);

    /// <summary>When (<see cref="Now"/>) each 2xx answer for a contact_uid was decided.</summary>
    public IReadOnlyList<long> DeliveryTimes(string uid) => _delivered.TryGetValue(uid, out var q) ? q.ToArray() : [];

    public int DistinctDelivered => _delivered.Count;

    public IReadOnlyDictionary<PartnerFault, int> Faults => _faults;

    async Task HandleAsync(HttpContext http)
    {
        if (!HttpMethods.IsPost(http.Request.Method) || !Paths.Contains(http.Request.Path.Value ?? ""))
        {
            http.Response.StatusCode = 404;
            return;
        }
        using var body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
        var fault = _chooseFault();
        _faults.AddOrUpdate(fault, 1, (_, n) => n + 1);
        switch (fault)
        {
            case PartnerFault.Status500: http.Response.StatusCode = 500; return;
            case PartnerFault.Status503: http.Response.StatusCode = 503; return;
            case PartnerFault.Status429:
                http.Response.StatusCode = 429;
                http.Response.Headers.RetryAfter = "1";
                return;
            case PartnerFault.Reset:
                http.Abort(); // the connection is dropped without an answer
                return;
            case PartnerFault.Timeout:
                await Task.Delay(TimeSpan.FromMinutes(2), http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                http.Abort();
                return;
            case PartnerFault.Slow10s:
                await Task.Delay(TimeSpan.FromSeconds(10), http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                if (http.RequestAborted.IsCancellationRequested) return; // the client gave up: not delivered
                break;
        }
        var now = Now;
        foreach (var uid in ContactUids(body.RootElement))
            _delivered.GetOrAdd(uid, _ => new ConcurrentQueue<long>()).Enqueue(now);
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("{}");
    }

    /// <summary>Every "contact_uid" string in the body: one for a single call, one per item of a /v1/batch array.</summary>
    public static IEnumerable<string> ContactUids(JsonElement element)
    {
        var found = new List<string>();
        Collect(element, found);
        return found;

        static void Collect(JsonElement e, List<string> found)
        {
            if (e.ValueKind == JsonValueKind.Array)
                foreach (var item in e.EnumerateArray()) Collect(item, found);
            else if (e.ValueKind == JsonValueKind.Object)
                foreach (var p in e.EnumerateObject())
                {
                    if (p.Name == "contact_uid" && p.Value.ValueKind == JsonValueKind.String) found.Add(p.Value.GetString()!);
                    else if (p.Name != "params") Collect(p.Value, found); // traits never carry the id we count
                }
        }
    }

    bool _stopped;

    /// <summary>Stops taking requests and waits for those already received to be answered (and recorded): once the services
    /// sending here are gone too, nothing more can arrive, so the counts are final.</summary>
    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}
