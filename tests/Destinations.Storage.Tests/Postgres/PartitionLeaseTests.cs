using Destinations.Storage.Postgres;

namespace Destinations.Storage.Tests;

/// <summary>Replicas lease instance partitions (not rows) with expiry; a dead replica's partitions are taken over after the lease.</summary>
public sealed class PartitionLeaseTests
{
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Two_replicas_share_the_partitions_and_a_dead_ones_are_taken_over_after_its_lease()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        await using var db = new PostgresDatabase(store.Options.ConnectionString);
        var leases = new PostgresPartitionLeases(db, store.Clock);
        await leases.EnsureAsync("sm", 4, CancellationToken.None);
        await leases.EnsureAsync("um", 4, CancellationToken.None);

        // Alone, A takes all eight; B, starting later, gets none while A's leases run.
        Assert.Equal(8, (await leases.AcquireAsync("A", Lease, CancellationToken.None)).Count);
        Assert.Empty(await leases.AcquireAsync("B", Lease, CancellationToken.None));
        // A sees two live replicas: it keeps its share (four) and leaves the rest to expire.
        var a = await leases.AcquireAsync("A", Lease, CancellationToken.None);
        Assert.Equal(4, a.Count);
        // Rounds every half lease: B gets the four A left once their lease ends.
        store.Clock.Advance(Lease / 2);
        Assert.Equal(4, (await leases.AcquireAsync("A", Lease, CancellationToken.None)).Count);
        Assert.Empty(await leases.AcquireAsync("B", Lease, CancellationToken.None));
        store.Clock.Advance(Lease / 2 + TimeSpan.FromSeconds(1));
        a = await leases.AcquireAsync("A", Lease, CancellationToken.None);
        var b = await leases.AcquireAsync("B", Lease, CancellationToken.None);
        Assert.Equal(4, a.Count);
        Assert.Equal(4, b.Count);
        Assert.Empty(a.Select(l => (l.Instance, l.Partition)).Intersect(b.Select(l => (l.Instance, l.Partition))));

        // Each moves only its own cursors.
        var mine = b[0];
        Assert.True(await leases.AdvanceAsync("B", mine.Instance, mine.Partition, 42, CancellationToken.None));
        Assert.False(await leases.AdvanceAsync("A", mine.Instance, mine.Partition, 99, CancellationToken.None));

        // B dies (no more rounds). Within its lease, nothing changes hands; after it, A holds all eight, from B's cursor.
        store.Clock.Advance(Lease / 2);
        Assert.Equal(4, (await leases.AcquireAsync("A", Lease, CancellationToken.None)).Count);
        store.Clock.Advance(Lease / 2 + TimeSpan.FromSeconds(1));
        a = await leases.AcquireAsync("A", Lease, CancellationToken.None);
        Assert.Equal(8, a.Count);
        Assert.Equal(42, a.Single(l => l.Instance == mine.Instance && l.Partition == mine.Partition).Seq);
        // B comes back late: its cursor write is refused (the partition is A's now).
        Assert.False(await leases.AdvanceAsync("B", mine.Instance, mine.Partition, 50, CancellationToken.None));
        Assert.True(await leases.AdvanceAsync("A", mine.Instance, mine.Partition, 50, CancellationToken.None));
    }

    [Fact]
    public async Task An_orderly_stop_hands_the_partitions_over_at_once()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        await using var db = new PostgresDatabase(store.Options.ConnectionString);
        var leases = new PostgresPartitionLeases(db, store.Clock);
        await leases.EnsureAsync("sm", 4, CancellationToken.None);
        Assert.Equal(4, (await leases.AcquireAsync("A", Lease, CancellationToken.None)).Count);
        await leases.ReleaseAsync("A", CancellationToken.None);
        Assert.Equal(4, (await leases.AcquireAsync("B", Lease, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_new_instance_starts_at_the_head_and_a_changed_count_restarts_from_the_slowest_cursor()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        // Events of another instance: sm has no partitions yet (ingest creates them with the first event routed to it).
        for (var i = 0; i < 5; i++) await store.AcceptOneAsync(TestEvents.To($"e{i}", "other"));
        // The head: the last number drawn (the top of the last group's block of numbers; nothing can commit at or below it).
        var head = await store.ScalarAsync<long>("SELECT pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass)");
        Assert.True(head >= await store.ScalarAsync<long>("SELECT MAX(seq) FROM events"));
        await using var db = new PostgresDatabase(store.Options.ConnectionString);
        var leases = new PostgresPartitionLeases(db, store.Clock);

        await leases.EnsureAsync("sm", 2, CancellationToken.None);
        var held = await leases.AcquireAsync("A", Lease, CancellationToken.None);
        Assert.Equal([head, head], held.Where(l => l.Instance == "sm").Select(l => l.Seq));
        Assert.True(await leases.AdvanceAsync("A", "sm", 0, head + 10, CancellationToken.None));
        Assert.True(await leases.AdvanceAsync("A", "sm", 1, head + 3, CancellationToken.None));
        // The cursor never moves back.
        Assert.True(await leases.AdvanceAsync("A", "sm", 1, head + 1, CancellationToken.None));

        await leases.EnsureAsync("sm", 2, CancellationToken.None); // unchanged: nothing moves
        Assert.Equal([head + 10, head + 3], await store.QueryAsync<long>("SELECT seq FROM cursor_leases WHERE instance = 'sm' ORDER BY partition"));
        await leases.EnsureAsync("sm", 3, CancellationToken.None);
        Assert.Equal([head + 3, head + 3, head + 3], await store.QueryAsync<long>("SELECT seq FROM cursor_leases WHERE instance = 'sm' ORDER BY partition"));
    }

    [Fact]
    public async Task Partitions_that_ingest_creates_while_the_claim_sets_up_the_instance_keep_their_start()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        await using var db = new PostgresDatabase(store.Options.ConnectionString);
        await db.EnsureMigratedAsync(CancellationToken.None);
        var leases = new PostgresPartitionLeases(db, store.Clock);

        // An ingest group as PostgresGroupWriter runs it, held open: the marker, a block of numbers, sm's partitions created
        // just before its first event (the first event routed to sm).
        await using var ingest = await db.OpenAsync(CancellationToken.None);
        await using var tx = await ingest.BeginTransactionAsync();
        await using (var marker = new Npgsql.NpgsqlCommand(
            $"SELECT pg_advisory_xact_lock_shared({PostgresGroupWriter.MarkerKey1}, {PostgresGroupWriter.MarkerKey2})", ingest, tx))
            await marker.ExecuteScalarAsync();
        long top;
        await using (var next = new Npgsql.NpgsqlCommand("SELECT nextval(pg_get_serial_sequence('events', 'seq'))", ingest, tx))
            top = (long)(await next.ExecuteScalarAsync())!;
        var firstSeq = top - PostgresGroupWriter.SeqBlock + 1;
        await using (var partitions = new Npgsql.NpgsqlCommand(
            $"INSERT INTO cursor_leases (instance, partition, seq, seen_at) SELECT 'sm', p, {firstSeq - 1}, 0 FROM generate_series(0, 1) AS p", ingest, tx))
            await partitions.ExecuteNonQueryAsync();

        // Meanwhile the dispatcher's first claim sets up sm: it finds no partition yet and waits for the horizon, which waits
        // for the ingest group. Once EnsureAsync holds its lock (and has read the partitions), the group commits.
        var ensure = leases.EnsureAsync("sm", 2, CancellationToken.None);
        for (var until = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < until && !ensure.IsCompleted; await Task.Delay(20))
            if (await store.ScalarAsync<long>("""
                    SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
                      AND classid = hashtext('cursor_leases')::oid AND objid = hashtext('sm')::oid
                    """) > 0) break;
        await Task.Delay(300);
        Assert.False(ensure.IsCompleted, "EnsureAsync must wait for the ingest group that drew numbers before its horizon");
        await tx.CommitAsync();
        await ensure;

        // The event at firstSeq is read: the partitions start before it, not at the horizon (the top of the group's block).
        Assert.Equal([firstSeq - 1, firstSeq - 1], await store.QueryAsync<long>("SELECT seq FROM cursor_leases WHERE instance = 'sm' ORDER BY partition"));
    }

    [Fact]
    public async Task A_changed_partition_count_restarts_from_the_slowest_cursor_even_when_ingest_runs_first()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres, o => o.Partitions = 2);
        for (var i = 0; i < 3; i++) await store.AcceptOneAsync(TestEvents.To($"old-{i}", "sm"));
        var first = await store.ScalarAsync<long>("SELECT MIN(seq) FROM events");
        Assert.Equal([first - 1, first - 1], await store.QueryAsync<long>("SELECT seq FROM cursor_leases WHERE instance = 'sm' ORDER BY partition"));

        // Restarted with four partitions; its ingest runs before the dispatcher's first claim sets the instance up. The
        // three events are not delivered yet: under the new count their users may be in partitions 2 and 3, which must not
        // start after them.
        store.Options.Partitions = 4;
        await using var restarted = store.Reopen();
        for (var i = 0; i < 3; i++) await restarted.AcceptOneAsync(TestEvents.To($"new-{i}", "sm"));
        Assert.Equal([first - 1, first - 1], await store.QueryAsync<long>("SELECT seq FROM cursor_leases WHERE instance = 'sm' ORDER BY partition"));
        await using var db = new PostgresDatabase(store.Options.ConnectionString);
        await new PostgresPartitionLeases(db, store.Clock).EnsureAsync("sm", 4, CancellationToken.None);
        Assert.Equal([first - 1, first - 1, first - 1, first - 1],
            await store.QueryAsync<long>("SELECT seq FROM cursor_leases WHERE instance = 'sm' ORDER BY partition"));
    }

    [Fact]
    public async Task A_removed_instances_partitions_are_dropped_after_seven_days_and_it_comes_back_at_the_head()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres, o => o.Partitions = 2);
        await using var db = new PostgresDatabase(store.Options.ConnectionString);
        var leases = new PostgresPartitionLeases(db, store.Clock);
        await leases.EnsureAsync("sm", 2, CancellationToken.None);
        await leases.EnsureAsync("um", 2, CancellationToken.None);
        Assert.True((await leases.AcquireAsync("A", Lease, CancellationToken.None)).Count == 4);
        Assert.True(await leases.AdvanceAsync("A", "um", 0, 7, CancellationToken.None));

        // um is no longer configured: kept for the grace period, dropped after it; sm, configured, stays.
        store.Clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        Assert.Equal(0, await leases.TouchConfiguredAsync(["sm"], CancellationToken.None));
        store.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(2, await leases.TouchConfiguredAsync(["sm"], CancellationToken.None));
        Assert.Equal(["sm", "sm"], await store.QueryAsync<string>("SELECT instance FROM cursor_leases ORDER BY partition"));
        store.Clock.Advance(TimeSpan.FromDays(30));
        Assert.Equal(0, await leases.TouchConfiguredAsync(["sm"], CancellationToken.None)); // sm was seen: it stays

        // um comes back: ingest creates its partitions just before the first event routed to it (it gets the events accepted
        // from then on), not at its old cursor.
        for (var i = 0; i < 3; i++) await store.AcceptOneAsync(TestEvents.To($"e{i}", "um"));
        await leases.EnsureAsync("um", 2, CancellationToken.None);
        var first = await store.ScalarAsync<long>("SELECT MIN(seq) FROM events");
        Assert.Equal([first - 1, first - 1], await store.QueryAsync<long>("SELECT seq FROM cursor_leases WHERE instance = 'um' ORDER BY partition"));
    }

    [Fact]
    public async Task A_user_key_maps_to_one_partition_and_keys_spread_over_all()
    {
        var first = Enumerable.Range(0, 1000).Select(i => UserPartition.Of($"user-{i}", 8)).ToList();
        Assert.Equal(first, Enumerable.Range(0, 1000).Select(i => UserPartition.Of($"user-{i}", 8)));
        Assert.All(Enumerable.Range(0, 8), p => Assert.InRange(first.Count(x => x == p), 60, 190));
        // PostgreSQL computes the same partition from the stored hash.
        await using var store = TestStore.Create(StoreProvider.Postgres);
        var keys = Enumerable.Range(0, 200).Select(i => $"user-{i}").ToArray();
        var inSql = await store.QueryAsync<int>(
            "SELECT (((h % 8) + 8) % 8)::int FROM unnest(@Hashes) WITH ORDINALITY AS u(h, i) ORDER BY i",
            new { Hashes = keys.Select(UserPartition.Hash).ToArray() });
        Assert.Equal(keys.Select(k => UserPartition.Of(k, 8)), inSql);
        Assert.Equal(0, UserPartition.Of(null, 8));
        Assert.Equal(0, UserPartition.Of("user-1", 1));
    }
}
