using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Xunit.Abstractions;

namespace Destinations.EndToEnd.Tests;

/// <summary>
/// Scale-out: two service processes on one PostgreSQL (Storage:Provider=Postgres) share one log — events accepted by either
/// are delivered by the replica that leases the partition of their user (docs/storage.md, PostgreSQL). The design promises at-least-once:
/// every event delivered, and a second delivery only for work in flight when a lease ran out (at most claim batch size ×
/// workers per expiry).
/// </summary>
public sealed class PostgresScaleOutTests(ITestOutputHelper output)
{
    const int Events = 2_000, Replicas = 2, Workers = 4, ClaimBatchSize = 64;
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Two_replicas_on_one_PostgreSQL_deliver_every_event_at_least_once_and_duplicates_only_from_expired_leases()
    {
        var postgres = Environment.GetEnvironmentVariable("DESTINATIONS_TEST_POSTGRES");
        Assert.False(string.IsNullOrEmpty(postgres),
            "DESTINATIONS_TEST_POSTGRES is not set: run the suite with `bash .ci/run`, which starts PostgreSQL on loopback and sets it");

        using var partner = WireMockServer.Start();
        partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        var schema = $"scaleout_{Guid.NewGuid():N}";
        Dictionary<string, string> Replica(string token)
        {
            var env = E2eEnvironment.SalesmachineService(E2eEnvironment.NewDataDirectory(), partner.Url!);
            env["Storage__Provider"] = "Postgres";
            env["Storage__ConnectionString"] = $"{postgres};Search Path={schema}";
            // Each replica signs with its own token so the fake partner can tell who delivered what.
            env["Destinations__0__Settings__ApiToken"] = token;
            env["Delivery__RateLimits__salesmachine-e2e__Limit"] = "0";
            // Leases long enough that they rarely run out; when one does (a loaded machine), the other replica sends those
            // rows too, which the bound below allows.
            env["Delivery__Lease"] = Lease.ToString();
            env["Delivery__Workers"] = Workers.ToString(CultureInfo.InvariantCulture);
            env["Delivery__ClaimBatchSize"] = ClaimBatchSize.ToString(CultureInfo.InvariantCulture);
            env["Serilog__MinimumLevel__Default"] = "Warning";
            return env;
        }
        var elapsed = Stopwatch.StartNew();
        await using var a = await ServiceProcess.StartAsync(Replica("replica-a-token"));
        await using var b = await ServiceProcess.StartAsync(Replica("replica-b-token"));

        var acked = new ConcurrentBag<string>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(E2eEnvironment.WriteKey + ":")));
        var next = -1;
        async Task Sender()
        {
            for (var i = Interlocked.Increment(ref next); i < Events; i = Interlocked.Increment(ref next))
            {
                // Nine in ten events are accepted by replica A, whose own workers are woken at each commit: B delivering
                // more than the tenth it accepted proves the queue is shared (B finds A's rows by polling the database).
                var target = i % 10 == 0 ? b : a;
                var body = $$$"""{"userId":"scale-{{{i}}}","messageId":"scale-m-{{{i}}}","traits":{"n":{{{i}}}}}""";
                using var response = await http.PostAsync(new Uri(target.BaseAddress, "/v1/identify"), new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                acked.Add($"scale-{i}");
            }
        }
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(Sender)));

        Dictionary<string, List<string>> Deliveries()
        {
            var byContact = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var entry in partner.LogEntries)
            {
                var token = Encoding.UTF8.GetString(Convert.FromBase64String(entry.RequestMessage.Headers!["Authorization"].Single()["Basic ".Length..])).Split(':')[0];
                var json = JsonNode.Parse(entry.RequestMessage.Body ?? "null");
                var items = json is JsonArray batch ? batch.Select(n => n!) : json is null ? [] : [json];
                foreach (var item in items)
                    if (item["contact_uid"]?.GetValue<string>() is { } uid)
                        (byContact.TryGetValue(uid, out var who) ? who : byContact[uid] = []).Add(token);
            }
            return byContact;
        }
        var expected = acked.ToHashSet();
        Assert.Equal(Events, expected.Count);
        Assert.True(await E2eEnvironment.WaitUntilAsync(() => expected.IsSubsetOf(Deliveries().Keys), TimeSpan.FromSeconds(90)),
            $"delivered {Deliveries().Count} of {Events}\n{a.Output}\n{b.Output}");
        // Counted once both replicas are gone: nothing can be sent after that.
        a.KillHard();
        b.KillHard();
        elapsed.Stop();

        var deliveries = Deliveries();
        var duplicates = deliveries.Values.Sum(v => v.Count - 1L);
        // A worker holds one claim at a time, so its leases can run out at most once per lease period.
        var possibleExpiries = Replicas * (long)(elapsed.Elapsed / Lease);
        var allowed = possibleExpiries * ClaimBatchSize * Workers;
        var byReplica = deliveries.Values.SelectMany(v => v).GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"accepted {Events}; delivered {deliveries.Count} distinct; duplicates {duplicates} (allowed {allowed}: " +
            $"{possibleExpiries} possible lease expiries in {elapsed.Elapsed.TotalSeconds:F1} s with {Lease.TotalSeconds} s leases, " +
            $"{ClaimBatchSize} × {Workers} in flight each); by replica: {string.Join(", ", byReplica.Select(kv => $"{kv.Key}={kv.Value}"))}");
        Assert.True(duplicates <= allowed, $"{duplicates} duplicates, more than expired leases explain ({allowed}), e.g. " +
            string.Join(", ", deliveries.Where(kv => kv.Value.Count > 1).Select(kv => kv.Key).Take(5)));
        Assert.True(byReplica.GetValueOrDefault("replica-b-token") > Events / 10,
            $"replica B delivered only what it accepted: {byReplica.GetValueOrDefault("replica-b-token")}");
    }
}
