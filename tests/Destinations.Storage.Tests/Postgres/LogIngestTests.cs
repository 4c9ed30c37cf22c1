using Destinations.Core.Routing;
using Destinations.Storage.Postgres;

namespace Destinations.Storage.Tests;

/// <summary>The PostgreSQL log's ingest: dedupe across concurrent group commits and replicas, and the stored user hash
/// giving the same partition in SQL as <see cref="UserPartition.Of"/>.</summary>
public sealed class LogIngestTests
{
    [Fact]
    public async Task The_same_messageId_sent_at_once_through_two_replicas_is_stored_once()
    {
        await using var one = TestStore.Create(StoreProvider.Postgres);
        await using var two = one.Reopen();
        const int Ids = 200;
        // Each id goes through both replicas at the same moment, in requests of 10 (so groups of the four concurrent writers
        // of each replica mix): without a lock per messageId hash, two groups could each miss the other's uncommitted row.
        var results = await Task.WhenAll(Enumerable.Range(0, Ids / 10).SelectMany(r => new[] { one, two }.Select(store => Task.Run(() =>
            store.Store.AcceptAsync(Enumerable.Range(r * 10, 10).Select(i => TestEvents.To($"m-{i}", "sm")).ToList(), CancellationToken.None)))));
        var stored = results.SelectMany(r => r).Count(s => s == AcceptStatus.Stored);
        Assert.Equal(Ids, stored);
        Assert.Equal((long)Ids, await one.ScalarAsync<long>("SELECT COUNT(DISTINCT message_id) FROM events"));
        Assert.Equal((long)Ids, await one.ScalarAsync<long>("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public async Task Two_messageIds_with_one_hash_are_both_kept_and_each_is_refused_again()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-a", "sm")));
        // Another id whose row carries the same hash (as a collision would; the messageId hash is the user key's function):
        // the full messageId decides.
        await store.ExecuteAsync($"UPDATE events SET id_hash = {UserPartition.Hash("m-b")} WHERE message_id = 'm-a'");
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-b", "sm")));
        Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To("m-b", "sm")));
        Assert.Equal(2L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public async Task The_partition_computed_in_SQL_from_the_stored_hash_is_UserPartition_Of()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        var events = Enumerable.Range(0, 300).Select(i => new IncomingEvent("web", TestEvents.Track($"m-{i}", i % 50 == 0 ? null : $"user-{i}"),
            new RoutingDecision([new RoutedDelivery("sm", "track")], []))).ToList();
        await store.Store.AcceptAsync(events, CancellationToken.None);
        foreach (var partitions in new[] { 1, 4, 7, 8 })
        {
            var rows = await store.QueryAsync<(string? User, int Partition)>(
                $"SELECT user_key, {UserPartition.Sql("events", partitions.ToString(System.Globalization.CultureInfo.InvariantCulture))} FROM events");
            Assert.Equal(300, rows.Count);
            Assert.All(rows, r => Assert.Equal(UserPartition.Of(r.User, partitions), r.Partition));
            if (partitions > 1) Assert.Equal(partitions, rows.Select(r => r.Partition).Distinct().Count());
        }
    }

    [Fact]
    public async Task A_group_draws_its_sequence_numbers_a_block_at_a_time_in_ingest_order()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        const int Block = PostgresGroupWriter.SeqBlock;
        // One request larger than a block is one group: two values drawn, its events numbered in order from the first block.
        var first = Enumerable.Range(0, Block + 44).Select(i => TestEvents.To($"m-{i}", "sm")).ToList();
        await store.Store.AcceptAsync(first, CancellationToken.None);
        var seqs = await store.QueryAsync<(long Seq, string Message)>("SELECT seq, message_id FROM events ORDER BY seq");
        Assert.Equal(first.Select(e => e.Event.MessageId), seqs.Select(s => s.Message));
        Assert.Equal(Enumerable.Range(1, Block + 44).Select(i => (long)i), seqs.Select(s => s.Seq));
        Assert.Equal(2L * Block, await LastDrawnAsync(store));

        // The next group's block starts above the whole of the previous one (its unused numbers are a gap).
        await store.AcceptOneAsync(TestEvents.To("m-next", "sm"));
        Assert.Equal(2L * Block + 1, await store.ScalarAsync<long>("SELECT seq FROM events WHERE message_id = 'm-next'"));
        Assert.Equal(3L * Block, await LastDrawnAsync(store));
    }

    static Task<long> LastDrawnAsync(TestStore store) =>
        store.ScalarAsync<long>("SELECT pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass)");
}
