using Dapper;
using Destinations.Storage.Postgres;
using Npgsql;

namespace Destinations.Storage.Tests;

/// <summary>
/// A cursor over the PostgreSQL events never skips one: two stores on one schema (two replicas, each with its concurrent
/// group commits) write while a reader moves a cursor past the highest seq it saw, as a log reader does. An event committed
/// after the reader passed its seq would be lost for that reader; the reader reads only up to <see cref="PostgresLogHorizon"/>.
/// </summary>
public sealed class LogOrderTests
{
    [Fact]
    public async Task A_cursor_moving_past_what_it_read_never_skips_an_event_under_concurrent_writers()
    {
        await using var first = TestStore.Create(StoreProvider.Postgres);
        first.KeepFiles = true; // the second store drops the schema
        await first.EnsureMigratedAsync();
        await using var second = first.Reopen();

        var writing = true;
        var seen = new HashSet<long>();
        var reads = 0;
        var reader = Task.Run(async () =>
        {
            await using var conn = new NpgsqlConnection(first.Options.ConnectionString);
            await conn.OpenAsync();
            var horizon = new PostgresLogHorizon();
            var deadline = DateTime.UtcNow.AddMinutes(2);
            long cursor = 0;
            while (true)
            {
                var done = !Volatile.Read(ref writing); // read after the writers finished: everything is committed
                var safe = await horizon.AdvanceAsync(conn, null, CancellationToken.None);
                var seqs = (await conn.QueryAsync<long>("SELECT seq FROM events WHERE seq > @Cursor AND seq <= @Safe ORDER BY seq LIMIT 500",
                    new { Cursor = cursor, Safe = safe })).ToList();
                reads++;
                foreach (var seq in seqs) Assert.True(seen.Add(seq));
                if (seqs.Count > 0) cursor = seqs[^1];
                else if (done && safe >= await conn.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(seq), 0) FROM events")) return;
                // The horizon catches up once the writers have ended (ingest into other tests' schemas can only delay it).
                Assert.True(DateTime.UtcNow < deadline, $"the horizon stayed at {safe}");
            }
        });

        // 16 callers over the two stores, single events and small batches, so groups of different sizes overlap.
        var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            var store = w % 2 == 0 ? first : second;
            for (var r = 0; r < 60; r++)
            {
                var size = (w + r) % 3 == 0 ? 7 : 1;
                var events = Enumerable.Range(0, size).Select(i => TestEvents.To($"w{w}-r{r}-{i}", "sm")).ToList();
                var statuses = await store.Store.AcceptAsync(events, CancellationToken.None);
                Assert.All(statuses, s => Assert.Equal(AcceptStatus.Stored, s));
            }
        })).ToList();
        await Task.WhenAll(writers);
        Volatile.Write(ref writing, false);
        await reader;

        var all = await first.QueryAsync<long>("SELECT seq FROM events ORDER BY seq");
        var expected = Enumerable.Range(0, 16).Sum(w => Enumerable.Range(0, 60).Sum(r => (w + r) % 3 == 0 ? 7 : 1));
        Assert.Equal(expected, all.Count);
        Assert.Equal(all, seen.Order().ToList());
        Assert.True(reads > 10, $"the reader read only {reads} times while the writers wrote");
        // Several groups committed concurrently on each store (otherwise there was no race to lose).
        Assert.True(first.CommitCount > 20 && second.CommitCount > 20, $"commits: {first.CommitCount}, {second.CommitCount}");
    }

    [Fact]
    public async Task The_events_sequence_caches_no_numbers()
    {
        // The horizon counts every number up to the sequence's last value as drawn: a session's cache would break that.
        await using var store = TestStore.Create(StoreProvider.Postgres);
        await store.EnsureMigratedAsync();
        Assert.Equal(1, await store.ScalarAsync<long>("SELECT seqcache FROM pg_sequence WHERE seqrelid = pg_get_serial_sequence('events', 'seq')::regclass"));
    }
}
