using Dapper;
using Destinations.Storage.Postgres;
using Npgsql;

namespace Destinations.Storage.Tests;

/// <summary>
/// The horizon and the partition leases together, as the PostgreSQL log's claim will use them: two replicas each read the
/// partitions they lease, up to their horizon, while two stores write; one replica dies and the other takes its partitions
/// over after the lease. Every event is read exactly once and each user's events in ingest order (D16).
/// </summary>
public sealed class PartitionedReadTests
{
    const int Partitions = 4;
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    sealed class Replica(string owner, NpgsqlConnection conn)
    {
        public string Owner { get; } = owner;
        public NpgsqlConnection Conn { get; } = conn;
        public PostgresLogHorizon Horizon { get; } = new();
        public bool Alive = true;
    }

    [Fact]
    public async Task Two_replicas_read_every_event_once_in_user_order_and_a_dead_ones_partitions_are_taken_over()
    {
        await using var first = TestStore.Create(StoreProvider.Postgres);
        first.KeepFiles = true; // the second store drops the schema
        await first.EnsureMigratedAsync();
        await using var second = first.Reopen();
        await using var db = new PostgresDatabase(first.Options.ConnectionString);
        var leases = new PostgresPartitionLeases(db, first.Clock);
        await leases.EnsureAsync("sm", Partitions, CancellationToken.None);

        // Two waves of writers: the second starts when B has stopped, so A must take B's partitions to read it.
        Task Wave(string wave) => Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var store = w % 2 == 0 ? first : second;
            for (var r = 0; r < 20; r++)
            {
                var size = (w + r) % 4 == 0 ? 5 : 1;
                var events = Enumerable.Range(0, size).Select(i => new IncomingEvent("web",
                    TestEvents.Track($"{wave}-w{w}-r{r}-{i}", $"user-{(w * 7 + r + i) % 13}"),
                    new Core.Routing.RoutingDecision([new Core.Routing.RoutedDelivery("sm", "track")], []))).ToList();
                await store.Store.AcceptAsync(events, CancellationToken.None);
            }
        })));
        var waves = new List<Task> { Wave("one") };

        var replicas = new List<Replica>();
        foreach (var owner in new[] { "A", "B" })
        {
            var conn = new NpgsqlConnection(first.Options.ConnectionString);
            await conn.OpenAsync();
            replicas.Add(new Replica(owner, conn));
        }
        var read = new List<(string Owner, long Seq, string User)>();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        for (var round = 0; ; round++)
        {
            var done = waves.Count == 2 && waves.All(w => w.IsCompleted);
            if (round == 8)
            {
                replicas[1].Alive = false; // B stops: no more rounds, its leases run out
                waves.Add(Wave("two"));
            }
            var progress = false;
            foreach (var replica in replicas.Where(r => r.Alive))
            {
                var held = await leases.AcquireAsync(replica.Owner, Lease, CancellationToken.None);
                var safe = await replica.Horizon.AdvanceAsync(replica.Conn, null, CancellationToken.None);
                foreach (var lease in held)
                {
                    var rows = (await replica.Conn.QueryAsync<(long Seq, string User)>(
                        "SELECT seq, user_key FROM events WHERE seq > @After AND seq <= @Safe ORDER BY seq LIMIT 200",
                        new { After = lease.Seq, Safe = safe })).ToList();
                    if (rows.Count == 0) continue;
                    read.AddRange(rows.Where(r => UserPartition.Of(r.User, Partitions) == lease.Partition).Select(r => (replica.Owner, r.Seq, r.User)));
                    Assert.True(await leases.AdvanceAsync(replica.Owner, lease.Instance, lease.Partition, rows[^1].Seq, CancellationToken.None));
                    progress = true;
                }
            }
            first.Clock.Advance(Lease / 3);
            if (done && !progress)
            {
                var max = await first.ScalarAsync<long>("SELECT MAX(seq) FROM events");
                var cursors = await first.QueryAsync<long>("SELECT seq FROM cursor_leases");
                if (cursors.All(c => c >= max)) break;
            }
            Assert.True(DateTime.UtcNow < deadline, "the replicas did not catch up");
        }
        await Task.WhenAll(waves);

        var events = await first.QueryAsync<(long Seq, string User)>("SELECT seq, user_key FROM events ORDER BY seq");
        Assert.Equal(2 * (8 * 20 + Enumerable.Range(0, 8).Sum(w => Enumerable.Range(0, 20).Count(r => (w + r) % 4 == 0)) * 4), events.Count);
        Assert.Equal(events.Select(e => e.Seq), read.Select(r => r.Seq).Order());
        foreach (var user in read.GroupBy(r => r.User))
            Assert.Equal(user.Select(r => r.Seq).Order(), user.Select(r => r.Seq));
        // Both replicas read; A alone after B stopped.
        Assert.Contains(read, r => r.Owner == "B");
        var lastOfB = read.FindLastIndex(r => r.Owner == "B");
        Assert.Contains(read.Skip(lastOfB + 1), r => r.Owner == "A" && read.Take(lastOfB + 1).Any(b => b.Owner == "B" && UserPartition.Of(b.User, Partitions) == UserPartition.Of(r.User, Partitions)));
        // B, back late, may not move a cursor it no longer holds.
        Assert.False(await leases.AdvanceAsync("B", "sm", UserPartition.Of(read[lastOfB].User, Partitions), long.MaxValue, CancellationToken.None));
        foreach (var replica in replicas) await replica.Conn.DisposeAsync();
    }
}
