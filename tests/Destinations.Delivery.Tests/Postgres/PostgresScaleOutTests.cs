using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Xunit.Abstractions;

namespace Destinations.Delivery.Tests;

/// <summary>
/// N replicas share one PostgreSQL queue (FOR UPDATE SKIP LOCKED + leases). What the design promises is at-least-once: every
/// event is delivered, and an event is delivered again only when the lease of the claim holding it ran out while it was in
/// flight — so the duplicates are at most what the workers held then (claim batch size × workers per expiry).
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
                Enumerable.Range(r * 100, 100).Select(i => TestEvents.To($"m-{i}", "sm")).ToList(), CancellationToken.None)));

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
            await using var conn = await a.Database.OpenAsync(CancellationToken.None);
            Assert.Equal([("delivered", (long)Events)], (await conn.QueryAsync<(string, long)>("SELECT status, COUNT(*) FROM deliveries GROUP BY status")).ToList());
        }
        finally
        {
            await DropAsync(schema);
        }
    }

    static readonly TimeSpan DyingLease = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task A_replica_that_dies_holding_leases_gives_its_rows_to_the_other_when_the_leases_expire()
    {
        var connectionString = PostgresTestDatabase.NewSchema(out var schema);
        var calls = new ConcurrentDictionary<string, int>();
        await using var survivor = new PostgresReplica(connectionString, CountingPartner.Create("sm", calls),
            o => { o.Workers = 1; o.PollInterval = TimeSpan.FromMilliseconds(100); });
        try
        {
            await survivor.Store.AcceptAsync(Enumerable.Range(0, 20).Select(i => TestEvents.To($"m-{i}", "sm")).ToList(), CancellationToken.None);
            // The dying replica claims everything under a short lease, then never writes an outcome (killed).
            var started = DateTime.UtcNow; // before the claim: its lease runs from there
            List<ClaimedDelivery> leased;
            await using (var dying = new PostgresReplica(connectionString, CountingPartner.Create("sm", calls)))
                leased = (await dying.Queue.ClaimAsync("dying-replica/0", 100, DyingLease, CancellationToken.None)).ToList();
            Assert.Equal(20, leased.Count);

            // A later event, not leased: once the survivor has delivered it, it has claimed what it could, and a claim takes
            // the oldest due rows first, so the leased ones would have come with it had their lease not held them back.
            await survivor.Store.AcceptAsync([TestEvents.To("marker", "sm")], CancellationToken.None);
            await survivor.Dispatcher.StartAsync(CancellationToken.None);
            while (!calls.ContainsKey("/v1/event/marker") && DateTime.UtcNow < started.AddSeconds(20)) await Task.Delay(20);
            var markerAfter = DateTime.UtcNow - started;
            var seen = calls.Keys.ToList();
            Assert.True(markerAfter < DyingLease, $"the marker took {markerAfter.TotalSeconds:F1} s, past the lease: nothing to conclude");
            Assert.Equal(["/v1/event/marker"], seen); // still leased: the survivor leaves them alone
            while (calls.Count < 21 && DateTime.UtcNow < started.AddSeconds(20)) await Task.Delay(50);
            await survivor.Dispatcher.StopAsync(CancellationToken.None);

            Assert.Equal(21, calls.Count);
            Assert.All(calls.Values, n => Assert.Equal(1, n));
            Assert.True(DateTime.UtcNow - started >= DyingLease, "delivered only after the lease ran out");
            // The dead replica's late write is refused: the rows belong to the survivor's outcome now.
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
