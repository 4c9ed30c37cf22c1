using System.Diagnostics;
using System.Net;
using System.Text;
using Xunit.Abstractions;

namespace Destinations.Torture.Tests;

/// <summary>
/// Fault test: the fake partner answers 500, 503, 429 (+Retry-After), never, with a reset, or after 10 s, at random
/// (seeded). With the retry schedule compressed by configuration (D13) every accepted event ends delivered or dead-lettered
/// with a reason, and nothing vanishes: each event is in the partner's success log or in the dead letters.
/// </summary>
public sealed class FaultTortureTests(ITestOutputHelper output)
{
    // 400 events: each timeout or 10 s answer holds a worker for the 2 s attempt timeout, so this stays under a minute.
    const int Events = 400;
    const int Seed = 13_2026;
    static readonly TimeSpan Horizon = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Every_event_is_delivered_or_dead_lettered_for_a_reason_under_random_partner_faults()
    {
        var total = Stopwatch.StartNew();
        var faultRandom = new Random(Seed);
        PartnerFault Choose()
        {
            lock (faultRandom)
                return faultRandom.Next(100) switch
                {
                    < 40 => PartnerFault.None,
                    < 52 => PartnerFault.Status500,
                    < 64 => PartnerFault.Status503,
                    < 76 => PartnerFault.Status429,
                    < 84 => PartnerFault.Timeout,
                    < 92 => PartnerFault.Reset,
                    _ => PartnerFault.Slow10s,
                };
        }
        await using var partner = await FakePartner.StartAsync(Choose);
        var data = TortureEnvironment.NewDataDirectory();
        var env = TortureEnvironment.Service(data, partner.Url);
        env["Delivery__Workers"] = "16";
        env["Delivery__ClaimBatchSize"] = "4";
        env["Delivery__Lease"] = "00:00:30";
        env["Delivery__BaseDelay"] = "00:00:00.100";
        env["Delivery__MaxDelay"] = "00:00:01";
        env["Delivery__MaxAge"] = "00:00:08";
        env["Delivery__MinAttempts"] = "3";
        env["Salesmachine__AttemptTimeout"] = "00:00:02";
        var db = TortureEnvironment.DatabasePath(data);
        try
        {
            await using (var service = await ServiceProcess.StartAsync(env, data))
            {
                using var http = TortureEnvironment.Client(TimeSpan.FromSeconds(10));
                for (var i = 0; i < Events; i += 20)
                {
                    var body = "{\"batch\":[" + string.Join(',', Enumerable.Range(i, 20).Select(n => TortureEnvironment.Identify(Id(n)))) + "]}";
                    using var response = await http.PostAsync(new Uri(service.BaseAddress, "/v1/batch"), new StringContent(body, Encoding.UTF8, "application/json"));
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }
                var settled = await TortureEnvironment.WaitUntilAsync(() => DeliveryTable.CountPending(db) == 0, Horizon);
                Assert.True(settled, $"{DeliveryTable.CountPending(db)} deliveries still pending after {Horizon}\n{service.Output}");
                Assert.True(service.IsAlive);
            }

            var rows = DeliveryTable.Read(db);
            var delivered = partner.DeliveryCounts();
            var byStatus = rows.GroupBy(r => r.Status).ToDictionary(g => g.Key, g => g.Count());
            var dead = rows.Where(r => r.Status == "dead").ToList();
            var vanished = Enumerable.Range(0, Events).Select(Id)
                .Where(id => !delivered.ContainsKey(id) && !dead.Any(d => d.UserKey == id)).ToList();
            var deliveredNotSeen = rows.Where(r => r.Status == "delivered" && !delivered.ContainsKey(r.UserKey)).ToList();
            output.WriteLine($"fault balance: accepted {Events}, rows {rows.Count}, " +
                string.Join(", ", byStatus.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}")) +
                $"; partner 2xx for {delivered.Count} events; vanished {vanished.Count}; {total.Elapsed.TotalSeconds:F1} s");
            output.WriteLine("faults injected: " + string.Join(", ", partner.Faults.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}")));
            output.WriteLine("dead letters by last partner status: " + string.Join(", ", dead
                .GroupBy(d => d.LastStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (timeout/reset)")
                .OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}")) + "; e.g. reason: " + dead.FirstOrDefault()?.Reason);

            Assert.Equal(Events, rows.Count); // one Salesmachine delivery per identify
            Assert.Equal(Events, byStatus.GetValueOrDefault("delivered") + byStatus.GetValueOrDefault("dead"));
            Assert.All(dead, d => Assert.False(string.IsNullOrWhiteSpace(d.Reason), $"dead letter for {d.UserKey} has no reason"));
            Assert.All(dead, d => Assert.True(d.Attempts >= 3, $"{d.UserKey} dead after {d.Attempts} attempts (MinAttempts 3)"));
            Assert.Empty(deliveredNotSeen); // "delivered" in the store means the partner answered 2xx
            Assert.Empty(vanished);
            Assert.All(Enum.GetValues<PartnerFault>(), f => Assert.True(partner.Faults.GetValueOrDefault(f) > 0, $"{f} never injected"));
        }
        finally
        {
            TortureEnvironment.DeleteQuietly(data);
        }
    }

    static string Id(int i) => $"fault-{i}";
}
