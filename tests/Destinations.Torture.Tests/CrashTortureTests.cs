using System.Diagnostics;
using System.Net;
using System.Text;
using Xunit.Abstractions;

namespace Destinations.Torture.Tests;

/// <summary>
/// Crash test: events are sent over HTTP (a 2xx is the acknowledgement) while the service is killed with SIGKILL at
/// random moments and restarted on the same database. Afterwards the fake partner must have received every acknowledged
/// event at least once, and an event delivered twice must have had a delivery in flight at a kill.
/// </summary>
public sealed class CrashTortureTests(ITestOutputHelper output)
{
    // 20,000 events (the issue's N): about half as single /v1/identify calls, half in /v1/batch requests of 25.
    const int Events = 20_000;
    const int BatchSize = 25;
    const int Kills = 6;
    const int Senders = 16;
    const int Seed = 8_2026;
    // A delivery "in flight at a kill": the partner answered 2xx at most this long before the SIGKILL, so the service may
    // not have recorded it as delivered yet. Generous on a loaded 2-core machine; a lease (10 s) is not involved.
    const long InFlightWindowMs = 5_000;
    // At a kill at most Workers (4) × ClaimBatchSize (256, the default) deliveries are claimed, so at most that many can be in flight.
    const int MaxInFlightPerKill = 4 * 256;
    static readonly TimeSpan SendDeadline = TimeSpan.FromSeconds(120);
    static readonly TimeSpan DrainDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_acknowledged_event_is_delivered_across_random_kill_9s()
    {
        var total = Stopwatch.StartNew();
        var random = new Random(Seed);
        var units = Plan(random);
        var killAt = Enumerable.Range(0, Kills).Select(_ => random.Next(Events / 20, Events * 9 / 10)).Order().ToArray();
        var killDelaysMs = Enumerable.Range(0, Kills).Select(_ => random.Next(0, 250)).ToArray();

        await using var partner = await FakePartner.StartAsync();
        var data = TortureEnvironment.NewDataDirectory();
        var env = TortureEnvironment.Service(data, partner.Url);
        var acked = new int[Events];
        var ackedCount = 0;
        var killTimes = new List<long>();
        ServiceProcess? current = await ServiceProcess.StartAsync(env, data);
        try
        {
            using var http = TortureEnvironment.Client(TimeSpan.FromSeconds(10));
            using var stop = new CancellationTokenSource(SendDeadline);
            var queue = new System.Collections.Concurrent.ConcurrentQueue<(int First, int Count)>(units);

            async Task SendAsync()
            {
                while (!stop.IsCancellationRequested && queue.TryDequeue(out var unit))
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var service = Volatile.Read(ref current);
                        if (service is null) { await Task.Delay(50); continue; } // restarting
                        if (await PostAsync(http, service.BaseAddress, unit))
                        {
                            for (var i = unit.First; i < unit.First + unit.Count; i++) acked[i] = 1;
                            Interlocked.Add(ref ackedCount, unit.Count);
                            break;
                        }
                        await Task.Delay(20); // not acknowledged (killed mid-request, or not up yet): send it again
                    }
                }
            }

            async Task KillAsync()
            {
                for (var k = 0; k < Kills && !stop.IsCancellationRequested; k++)
                {
                    while (Volatile.Read(ref ackedCount) < killAt[k] && !stop.IsCancellationRequested) await Task.Delay(5);
                    await Task.Delay(killDelaysMs[k]);
                    var victim = Interlocked.Exchange(ref current, null)!;
                    victim.KillHard(); // returns once the process is gone
                    lock (killTimes) killTimes.Add(partner.Now);
                    await victim.DisposeAsync();
                    Volatile.Write(ref current, await ServiceProcess.StartAsync(env, data));
                }
            }

            var killer = Task.Run(KillAsync);
            await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(SendAsync)).Append(killer));
            var sendSeconds = total.Elapsed.TotalSeconds;

            var ackedIds = Enumerable.Range(0, Events).Where(i => acked[i] == 1).Select(Id).ToHashSet(StringComparer.Ordinal);
            var drained = await TortureEnvironment.WaitUntilAsync(
                () => ackedIds.All(id => partner.DeliveryTimes(id).Count > 0), DrainDeadline);
            // Final counts: the service is gone and the partner has answered everything it received.
            current?.KillHard();
            await partner.StopAsync();

            var counts = partner.DeliveryCounts();
            var lost = ackedIds.Where(id => !counts.ContainsKey(id)).ToList();
            var duplicated = counts.Where(kv => kv.Value > 1).Select(kv => kv.Key).ToList();
            var unexplained = duplicated.Where(id => !InFlightAtAKill(partner.DeliveryTimes(id), killTimes)).ToList();
            var unknown = counts.Keys.Where(id => !id.StartsWith("crash-", StringComparison.Ordinal)).ToList();
            output.WriteLine($"crash balance: sent {Events}, acked {ackedIds.Count}, delivered {ackedIds.Count - lost.Count} " +
                $"(+{counts.Count - (ackedIds.Count - lost.Count)} not acked), duplicates {duplicated.Count} " +
                $"({counts.Values.Sum() - counts.Count} extra deliveries), lost {lost.Count}; kills {killTimes.Count}; " +
                $"sending {sendSeconds:F1} s, total {total.Elapsed.TotalSeconds:F1} s");

            Assert.Equal(Kills, killTimes.Count);
            Assert.Equal(Events, ackedIds.Count);
            Assert.True(drained && lost.Count == 0, $"{lost.Count} acknowledged events lost, e.g. {string.Join(", ", lost.Take(10))}\n{current?.Output}");
            Assert.Empty(unknown);
            Assert.True(duplicated.Count <= Kills * MaxInFlightPerKill, $"{duplicated.Count} duplicates: more than {Kills} kills can explain");
            Assert.True(unexplained.Count == 0,
                $"{unexplained.Count} duplicates not explained by a kill (kills at {string.Join(", ", killTimes)} ms), e.g. " +
                string.Join("; ", unexplained.Take(5).Select(id => $"{id} delivered at {string.Join(", ", partner.DeliveryTimes(id))} ms")));
        }
        finally
        {
            if (current is not null) await current.DisposeAsync();
            TortureEnvironment.DeleteQuietly(data);
        }
    }

    /// <summary>
    /// A second delivery is explained when the first was answered close to a kill: before it (the service had not recorded
    /// it yet) or just after it (the request was already in the partner's socket when the sender died).
    /// </summary>
    static bool InFlightAtAKill(IReadOnlyList<long> times, List<long> kills) =>
        kills.Any(k => times[0] - k <= 1_000 && k - times[0] <= InFlightWindowMs);

    internal static string Id(int i) => $"crash-{i}";

    /// <summary>
    /// Requests in a random mix: a batch of <see cref="BatchSize"/> with probability 1/(BatchSize+1), else a single identify,
    /// so about half the events travel in batches.
    /// </summary>
    internal static List<(int First, int Count)> Plan(Random random, int events = Events)
    {
        var units = new List<(int, int)>();
        for (var i = 0; i < events;)
        {
            var count = random.Next(BatchSize + 1) == 0 ? Math.Min(BatchSize, events - i) : 1;
            units.Add((i, count));
            i += count;
        }
        return units;
    }

    internal static async Task<bool> PostAsync(HttpClient http, Uri service, (int First, int Count) unit)
    {
        var (path, body) = unit.Count == 1
            ? ("/v1/identify", TortureEnvironment.Identify(Id(unit.First)))
            : ("/v1/batch", "{\"batch\":[" + string.Join(',', Enumerable.Range(unit.First, unit.Count).Select(i => TortureEnvironment.Identify(Id(i)))) + "]}");
        try
        {
            using var response = await http.PostAsync(new Uri(service, path), new StringContent(body, Encoding.UTF8, "application/json"));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) { return false; }
    }
}
