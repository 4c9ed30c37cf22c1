using Destinations.Core.Delivery;
using Destinations.Storage.Postgres;
using Npgsql;

namespace Destinations.Storage.Tests;

/// <summary>The PostgreSQL filter and duplicate counters (D8, D5) are sharded per ingest transaction, so concurrent groups and
/// replicas filtering events for the same instance never wait for each other's counter row; the stats sum the shards.</summary>
public sealed class CounterShardTests
{
    static IncomingEvent Nowhere(string messageId) =>
        TestEvents.Incoming(messageId, [], [new RouterFilter("sm", FilterReason.SourceNotLinked)]);

    [Fact]
    public async Task A_group_counting_for_an_instance_does_not_wait_for_another_groups_uncommitted_counts_and_the_stats_sum_both()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(Nowhere("m-0")));
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-dup", "sm")));
        var day = StoredValues.Day(store.Clock.GetUtcNow());

        // Another ingest group (of this replica or another) between its counter update and its commit: its rows stay locked
        // until the commit, which here does not come until the store's next group has committed.
        await using var other = new NpgsqlConnection(store.Options.ConnectionString);
        await other.OpenAsync();
        await using var held = await other.BeginTransactionAsync();
        await using (var batch = new NpgsqlBatch(other, held))
        {
            var filter = new NpgsqlBatchCommand(PostgresGroupWriter.FilterCountsUpsert);
            filter.Parameters.Add(new NpgsqlParameter { Value = new[] { "sm" } });
            filter.Parameters.Add(new NpgsqlParameter { Value = new[] { "source_not_linked" } });
            filter.Parameters.Add(new NpgsqlParameter { Value = day });
            filter.Parameters.Add(new NpgsqlParameter { Value = new[] { 5L } });
            batch.BatchCommands.Add(filter);
            var duplicate = new NpgsqlBatchCommand(PostgresGroupWriter.DuplicateCountsUpsert);
            duplicate.Parameters.Add(new NpgsqlParameter { Value = new[] { "sm" } });
            duplicate.Parameters.Add(new NpgsqlParameter { Value = day });
            duplicate.Parameters.Add(new NpgsqlParameter { Value = new[] { 3L } });
            batch.BatchCommands.Add(duplicate);
            await batch.ExecuteNonQueryAsync();
        }

        // With one row per (instance, reason, day) this group waited for the open transaction's row lock (for ever here).
        var accepted = await store.Store.AcceptAsync([Nowhere("m-1"), TestEvents.To("m-dup", "sm")], CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([AcceptStatus.Stored, AcceptStatus.Duplicate], accepted);
        var committed = await store.Queue.GetStatsAsync("sm", CancellationToken.None);
        Assert.Equal(2L, committed.Filtered["source_not_linked"]);
        Assert.Equal(1L, committed.Duplicates);

        await held.CommitAsync();
        var stats = await store.Queue.GetStatsAsync("sm", CancellationToken.None);
        Assert.Equal(2L + 5L, stats.Filtered["source_not_linked"]);
        Assert.Equal(1L + 3L, stats.Duplicates);
        Assert.True(await store.ScalarAsync<long>("SELECT COUNT(DISTINCT shard) FROM filter_counts WHERE destination_id = 'sm'") >= 2);
    }

    [Fact]
    public async Task Counts_from_concurrent_groups_of_two_replicas_sum_exactly_and_stay_in_few_rows()
    {
        await using var one = TestStore.Create(StoreProvider.Postgres);
        await using var two = one.Reopen();
        const int Requests = 60;
        // Each request: 4 events routed nowhere and 1 duplicate of an event stored first (routed to sm).
        Assert.Equal(AcceptStatus.Stored, await one.AcceptOneAsync(TestEvents.To("m-dup", "sm")));
        await Task.WhenAll(Enumerable.Range(0, Requests).Select(r => Task.Run(() => (r % 2 == 0 ? one : two).Store.AcceptAsync(
            [.. Enumerable.Range(0, 4).Select(i => Nowhere($"m-{r}-{i}")), TestEvents.To("m-dup", "sm")], CancellationToken.None))));

        var stats = await one.Queue.GetStatsAsync("sm", CancellationToken.None);
        Assert.Equal(Requests * 4L, stats.Filtered["source_not_linked"]);
        Assert.Equal((long)Requests, stats.Duplicates);
        // The lowest free shard is taken: at most one row per group that ran at once (four group commits per replica).
        Assert.InRange(await one.ScalarAsync<long>("SELECT COUNT(*) FROM filter_counts"), 1, 2 * PostgresEventStore.ConcurrentCommits);
    }
}
