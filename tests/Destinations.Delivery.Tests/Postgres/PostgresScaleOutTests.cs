using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Xunit.Abstractions;

namespace Destinations.Delivery.Tests;

/// <summary>
/// N replicas share one PostgreSQL log (partitions leased by replicas, rows only for trouble). What the design promises is
/// at-least-once: every event is delivered, and an event is delivered again only when the lease of the claim holding it ran
/// out while it was in flight — so the duplicates are at most what the workers held then (claim batch size × workers per expiry).
/// </summary>
public sealed class PostgresScaleOutTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_replicas_drain_10000_events_every_one_at_least_once_and_duplicates_only_from_expired_leases()
    {
        const int Events = 10_000, Replicas = 2, Workers = 3, ClaimBatchSize = 32;
        var lease = new Delivery.DeliveryOptions().Lease;
        var connectionString = PostgresTestDatabase.NewSchema(out var schema);
        var calls = new ConcurrentDictionary<string, int>();
        var (partnerA, partnerB) = (CountingPartner.Create("sm", calls), CountingPartner.Create("sm", calls));
        void Configure(Delivery.DeliveryOptions o) { o.Workers = Workers; o.ClaimBatchSize = ClaimBatchSize; o.PollInterval = TimeSpan.FromMilliseconds(100); }
        await using var a = new PostgresReplica(connectionString, partnerA, Configure);
        await using var b = new PostgresReplica(connectionString, partnerB, Configure);
        var elapsed = Stopwatch.StartNew();
        try
        {
            // Both replicas ingest (half each, in requests of 100) while both dispatch.
            await Task.WhenAll(a.Dispatcher.StartAsync(CancellationToken.None), b.Dispatcher.StartAsync(CancellationToken.None));
            await Task.WhenAll(Enumerable.Range(0, Events / 100).Select(r => (r % 2 == 0 ? a : b).Store.AcceptAsync(
                Enumerable.Range(r * 100, 100).Select(i => Of($"m-{i}", $"user-{i % 97}")).ToList(), CancellationToken.None)));

            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (calls.Count < Events && DateTime.UtcNow < deadline) await Task.Delay(100);
            // Counted once both dispatchers have stopped: nothing can be sent after that.
            await Task.WhenAll(a.Dispatcher.StopAsync(CancellationToken.None), b.Dispatcher.StopAsync(CancellationToken.None));
            elapsed.Stop();

            // A worker holds one claim at a time, so its leases can run out at most once per lease period.
            var possibleExpiries = Replicas * (long)(elapsed.Elapsed / lease);
            var allowed = possibleExpiries * ClaimBatchSize * Workers;
            var duplicates = calls.Values.Sum(n => n - 1L);
            output.WriteLine($"events {Events}, delivered {calls.Count} distinct, duplicates {duplicates} (allowed {allowed}: " +
                $"{possibleExpiries} possible lease expiries in {elapsed.Elapsed.TotalSeconds:F1} s with {lease.TotalSeconds} s leases, " +
                $"{ClaimBatchSize} × {Workers} in flight each); by replica {partnerA.Sent()} / {partnerB.Sent()}");
            Assert.Equal(Events, calls.Count); // every event at least once
            Assert.True(duplicates <= allowed, $"{duplicates} duplicates, more than expired leases explain ({allowed})");
            Assert.True(partnerA.Sent() > 0 && partnerB.Sent() > 0, $"both replicas delivered ({partnerA.Sent()} / {partnerB.Sent()})");
            // Delivered on the first pass from the log: no row, every partition's cursor past every event, counted.
            await using var conn = await a.Database.OpenAsync(CancellationToken.None);
            Assert.Equal(0L, await conn.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries"));
            var stats = await a.Queue.GetStatsAsync("sm", CancellationToken.None);
            Assert.Equal((0L, 0L, 0L), (stats.LogBacklog, stats.PendingNew, stats.Dead));
            Assert.True(stats.Delivered >= Events, $"{stats.Delivered} deliveries counted");
        }
        finally
        {
            await DropAsync(schema);
        }
    }

    /// <summary>An event for sm of <paramref name="user"/>: replicas share an instance's log by partitions of user keys, so
    /// the events of many users are spread over the replicas (one user's events are read by one replica at a time, D16).</summary>
    static IncomingEvent Of(string messageId, string user) =>
        new("web", TestEvents.Track(messageId, user), new Core.Routing.RoutingDecision([new Core.Routing.RoutedDelivery("sm", "track")], []));

    static readonly TimeSpan DyingLease = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task A_replica_that_dies_holding_partitions_gives_them_to_the_other_when_the_lease_expires()
    {
        var connectionString = PostgresTestDatabase.NewSchema(out var schema);
        var calls = new ConcurrentDictionary<string, int>();
        await using var survivor = new PostgresReplica(connectionString, CountingPartner.Create("sm", calls),
            o => { o.Workers = 1; o.PollInterval = TimeSpan.FromMilliseconds(100); });
        try
        {
            await survivor.Store.AcceptAsync(Enumerable.Range(0, 20).Select(i => TestEvents.To($"m-{i}", "sm")).ToList(), CancellationToken.None);
            // The dying replica leases every partition and claims everything under a short lease, then never writes an
            // outcome (killed). Its partition lease is twice the delivery lease.
            var started = DateTime.UtcNow; // before the claim: its leases run from there
            List<ClaimedDelivery> leased;
            await using (var dying = new PostgresReplica(connectionString, CountingPartner.Create("sm", calls)))
                leased = (await dying.Queue.ClaimAsync("dying-replica/0", 100, DyingLease, CancellationToken.None)).ToList();
            Assert.Equal(20, leased.Count);
            Assert.All(leased, d => Assert.True(d.Id < 0)); // log claims: no rows

            // A later event in the same partitions: the survivor reads none of them while the dying replica's lease holds.
            await survivor.Store.AcceptAsync([TestEvents.To("marker", "sm")], CancellationToken.None);
            await survivor.Dispatcher.StartAsync(CancellationToken.None);
            await Task.Delay(DyingLease / 2);
            Assert.True(DateTime.UtcNow - started < DyingLease * 2, "too slow to conclude anything");
            Assert.Empty(calls);
            while (calls.Count < 21 && DateTime.UtcNow < started.AddSeconds(30)) await Task.Delay(50);
            await survivor.Dispatcher.StopAsync(CancellationToken.None);

            Assert.Equal(21, calls.Count);
            Assert.All(calls.Values, n => Assert.Equal(1, n));
            Assert.True(DateTime.UtcNow - started >= DyingLease * 2, "delivered only after the partition lease ran out");
            // The dead replica's late write is refused: the partitions are the survivor's now.
            Assert.False(await survivor.Queue.MarkDeadAsync(leased[0], "late", null, null, CancellationToken.None));
        }
        finally
        {
            await DropAsync(schema);
        }
    }

    static async Task DropAsync(string schema)
    {
        await using var conn = new Npgsql.NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await conn.OpenAsync();
        await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    }
}
