using System.Collections.Concurrent;
using Dapper;

namespace Destinations.Storage.Tests;

/// <summary>Issue #6: N replicas share one PostgreSQL queue (FOR UPDATE SKIP LOCKED + leases).</summary>
public sealed class PostgresScaleOutTests
{
    [Fact]
    public async Task Two_replicas_drain_10000_events_each_delivered_exactly_once()
    {
        const int Events = 10_000;
        var connectionString = PostgresTestDatabase.NewSchema(out var schema);
        var calls = new ConcurrentDictionary<string, int>();
        var (partnerA, partnerB) = (new CountingPartner("sm", calls), new CountingPartner("sm", calls));
        void Configure(Delivery.DeliveryOptions o) { o.Workers = 3; o.ClaimBatchSize = 32; o.PollInterval = TimeSpan.FromMilliseconds(100); }
        await using var a = new PostgresReplica(connectionString, partnerA, Configure);
        await using var b = new PostgresReplica(connectionString, partnerB, Configure);
        try
        {
            // Both replicas ingest (half each, in requests of 100) while both dispatch.
            await Task.WhenAll(a.Dispatcher.StartAsync(CancellationToken.None), b.Dispatcher.StartAsync(CancellationToken.None));
            await Task.WhenAll(Enumerable.Range(0, Events / 100).Select(r => (r % 2 == 0 ? a : b).Store.AcceptAsync(
                Enumerable.Range(r * 100, 100).Select(i => TestEvents.To($"m-{i}", "sm")).ToList(), CancellationToken.None)));

            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (calls.Count < Events && DateTime.UtcNow < deadline) await Task.Delay(100);
            await Task.WhenAll(a.Dispatcher.StopAsync(CancellationToken.None), b.Dispatcher.StopAsync(CancellationToken.None));

            Assert.Equal(Events, calls.Count);
            Assert.DoesNotContain(calls, c => c.Value != 1); // none delivered twice (no lease expired: 60 s)
            Assert.True(partnerA.Sent > 0 && partnerB.Sent > 0, $"both replicas delivered ({partnerA.Sent} / {partnerB.Sent})");
            await using var conn = await a.Database.OpenAsync(CancellationToken.None);
            Assert.Equal([("delivered", (long)Events)], (await conn.QueryAsync<(string, long)>("SELECT status, COUNT(*) FROM deliveries GROUP BY status")).ToList());
        }
        finally
        {
            await DropAsync(schema);
        }
    }

    [Fact]
    public async Task A_replica_that_dies_holding_leases_gives_its_rows_to_the_other_when_the_leases_expire()
    {
        var connectionString = PostgresTestDatabase.NewSchema(out var schema);
        var calls = new ConcurrentDictionary<string, int>();
        await using var survivor = new PostgresReplica(connectionString, new CountingPartner("sm", calls),
            o => { o.Workers = 1; o.PollInterval = TimeSpan.FromMilliseconds(100); });
        try
        {
            await survivor.Store.AcceptAsync(Enumerable.Range(0, 20).Select(i => TestEvents.To($"m-{i}", "sm")).ToList(), CancellationToken.None);
            // The dying replica claims everything under a short lease, then never writes an outcome (killed).
            var started = DateTime.UtcNow; // before the claim: its lease runs from there
            List<ClaimedDelivery> leased;
            await using (var dying = new PostgresReplica(connectionString, new CountingPartner("sm", calls)))
                leased = (await dying.Queue.ClaimAsync("dying-replica/0", 100, TimeSpan.FromSeconds(2), CancellationToken.None)).ToList();
            Assert.Equal(20, leased.Count);

            await survivor.Dispatcher.StartAsync(CancellationToken.None);
            await Task.Delay(1000);
            Assert.Empty(calls); // still leased: the survivor leaves them alone
            while (calls.Count < 20 && DateTime.UtcNow < started.AddSeconds(20)) await Task.Delay(50);
            await survivor.Dispatcher.StopAsync(CancellationToken.None);

            Assert.Equal(20, calls.Count);
            Assert.All(calls.Values, n => Assert.Equal(1, n));
            Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(2), "delivered only after the lease ran out");
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
