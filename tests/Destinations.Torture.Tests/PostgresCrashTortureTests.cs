using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Destinations.Torture.Tests;

/// <summary>
/// Scale-out under a crash: two replicas share one PostgreSQL queue while events are sent to both; one is killed with SIGKILL
/// mid-load and not restarted. Every event either replica acknowledged must still reach the partner — the survivor takes the
/// dead replica's log partitions (and rows) when their leases run out — and a second delivery is allowed only for what the dead replica had in
/// flight at the kill (at most its workers × claim batch size), or for a lease the survivor itself let run out.
/// </summary>
public sealed class PostgresCrashTortureTests(ITestOutputHelper output)
{
    const int Events = 4_000;
    const int Senders = 12;
    const int Seed = 14_2026;
    const int Workers = 2, ClaimBatchSize = 32;
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);
    // The partner answered 2xx at most this long before the kill: the dead replica may not have recorded it as delivered.
    const long InFlightWindowMs = 5_000;
    static readonly TimeSpan SendDeadline = TimeSpan.FromSeconds(120);
    static readonly TimeSpan DrainDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_event_acknowledged_by_either_replica_is_delivered_by_the_survivor_after_a_kill_9()
    {
        var postgres = Environment.GetEnvironmentVariable("DESTINATIONS_TEST_POSTGRES");
        Assert.False(string.IsNullOrEmpty(postgres),
            "DESTINATIONS_TEST_POSTGRES is not set: run the suite with `bash .ci/run`, which starts PostgreSQL on loopback and sets it");

        var total = Stopwatch.StartNew();
        var random = new Random(Seed);
        var units = CrashTortureTests.Plan(random, Events);
        var killAt = random.Next(Events / 5, Events / 2);
        var killDelayMs = random.Next(0, 250);

        await using var partner = await FakePartner.StartAsync();
        var schema = $"crash_{Guid.NewGuid():N}";
        var data = TortureEnvironment.NewDataDirectory();
        var env = TortureEnvironment.Service(data, partner.Url);
        env["Storage__Provider"] = "Postgres";
        env["Storage__ConnectionString"] = $"{postgres};Search Path={schema}";
        env["Delivery__Lease"] = Lease.ToString();
        env["Delivery__Workers"] = Workers.ToString(CultureInfo.InvariantCulture);
        env["Delivery__ClaimBatchSize"] = ClaimBatchSize.ToString(CultureInfo.InvariantCulture);
        var replicas = new ServiceProcess?[2];
        try
        {
            replicas[0] = await ServiceProcess.StartAsync(env);
            replicas[1] = await ServiceProcess.StartAsync(env);
            var (victim, survivor) = (replicas[0]!, replicas[1]!);
            var acked = new int[Events];
            var ackedCount = 0;
            var ackedBy = new int[2];
            long killTime = -1;

            using var http = TortureEnvironment.Client(TimeSpan.FromSeconds(10));
            using var stop = new CancellationTokenSource(SendDeadline);
            var queue = new ConcurrentQueue<(int First, int Count)>(units);

            async Task SendAsync()
            {
                while (!stop.IsCancellationRequested && queue.TryDequeue(out var unit))
                {
                    // Alternate between the replicas; a request the victim did not acknowledge (killed mid-request, or gone)
                    // goes to the survivor, as a load balancer would send it.
                    var target = unit.First % 2;
                    while (!stop.IsCancellationRequested)
                    {
                        if (target == 0 && Interlocked.Read(ref killTime) >= 0) target = 1;
                        if (await CrashTortureTests.PostAsync(http, replicas[target]!.BaseAddress, unit))
                        {
                            for (var i = unit.First; i < unit.First + unit.Count; i++) acked[i] = 1;
                            Interlocked.Add(ref ackedCount, unit.Count);
                            Interlocked.Add(ref ackedBy[target], unit.Count);
                            break;
                        }
                        await Task.Delay(20); // not acknowledged: send it again
                    }
                }
            }

            async Task KillAsync()
            {
                while (Volatile.Read(ref ackedCount) < killAt && !stop.IsCancellationRequested) await Task.Delay(5);
                await Task.Delay(killDelayMs);
                victim.KillHard(); // returns once the process is gone
                Interlocked.Exchange(ref killTime, partner.Now);
            }

            var killer = Task.Run(KillAsync);
            await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(SendAsync)).Append(killer));
            var sendSeconds = total.Elapsed.TotalSeconds;

            var ackedIds = Enumerable.Range(0, Events).Where(i => acked[i] == 1).Select(CrashTortureTests.Id).ToHashSet(StringComparer.Ordinal);
            var drained = await TortureEnvironment.WaitUntilAsync(() => ackedIds.All(id => partner.DeliveryTimes(id).Count > 0), DrainDeadline);
            // Final counts: both replicas are gone and the partner has answered everything it received.
            survivor.KillHard();
            await partner.StopAsync();
            total.Stop();

            var counts = partner.DeliveryCounts();
            var lost = ackedIds.Where(id => !counts.ContainsKey(id)).ToList();
            var duplicated = counts.Where(kv => kv.Value > 1).Select(kv => kv.Key).ToList();
            var atTheKill = duplicated.Where(id => InFlightAtTheKill(partner.DeliveryTimes(id), killTime)).ToList();
            var otherDuplicates = duplicated.Count - atTheKill.Count;
            var unknown = counts.Keys.Where(id => !id.StartsWith("crash-", StringComparison.Ordinal)).ToList();
            // The survivor's own leases: a worker holds one claim at a time, so they run out at most once per lease period.
            var survivorExpiries = (long)(total.Elapsed / Lease);
            output.WriteLine($"postgres crash balance: sent {Events}, acked {ackedIds.Count} (victim {ackedBy[0]}, survivor {ackedBy[1]}), " +
                $"delivered {ackedIds.Count - lost.Count} (+{counts.Count - (ackedIds.Count - lost.Count)} not acked), lost {lost.Count}, " +
                $"duplicates {duplicated.Count} ({counts.Values.Sum() - counts.Count} extra deliveries; {atTheKill.Count} in flight at the kill, " +
                $"allowed {Workers * ClaimBatchSize}; {otherDuplicates} others, allowed {survivorExpiries * Workers * ClaimBatchSize}); " +
                $"kill at {killTime} ms after {killAt}+ acks; sending {sendSeconds:F1} s, total {total.Elapsed.TotalSeconds:F1} s");

            Assert.True(killTime >= 0, "the victim was never killed");
            Assert.True(ackedBy[0] > 0, "the victim acknowledged nothing before it was killed: the test proved nothing");
            Assert.Equal(Events, ackedIds.Count);
            Assert.True(drained && lost.Count == 0, $"{lost.Count} acknowledged events lost, e.g. {string.Join(", ", lost.Take(10))}\n{survivor.Output}");
            Assert.Empty(unknown);
            Assert.True(atTheKill.Count <= Workers * ClaimBatchSize,
                $"{atTheKill.Count} duplicates around the kill: more than the victim's workers can hold ({Workers} × {ClaimBatchSize})");
            Assert.True(otherDuplicates <= survivorExpiries * Workers * ClaimBatchSize,
                $"{otherDuplicates} duplicates not explained by the kill, more than the survivor's own lease expiries explain");
        }
        finally
        {
            foreach (var replica in replicas)
                if (replica is not null) await replica.DisposeAsync();
            TortureEnvironment.DeleteQuietly(data);
        }
    }

    /// <summary>The first delivery was answered just before the kill (the victim had not recorded it) or just after it (the
    /// request was already in the partner's socket when the victim died).</summary>
    static bool InFlightAtTheKill(IReadOnlyList<long> times, long kill) => times[0] - kill <= 1_000 && kill - times[0] <= InFlightWindowMs;
}
