using Destinations.Storage.Sqlite;

namespace Destinations.Storage.Tests.Sqlite;

/// <summary>D5 with the group commit's filter in front of the look-up: a "no" from the filter must never hide a duplicate —
/// after a restart (the filter is rebuilt from the log) and when rows reach the log by another writer (two ids with one
/// hash: LogTests).</summary>
public sealed class SeenFilterTests
{
    [Fact]
    public void Every_member_is_found_and_few_others_are()
    {
        var filter = new SeenFilter();
        for (var i = 0; i < 100_000; i++) filter.Add(LogRoutes.Hash($"member-{i}"));
        for (var i = 0; i < 100_000; i++) Assert.True(filter.MayContain(LogRoutes.Hash($"member-{i}")), $"member-{i}");
        var falsePositives = 0;
        for (var i = 0; i < 100_000; i++)
            if (filter.MayContain(LogRoutes.Hash($"other-{i}"))) falsePositives++;
        // 100K members in 2^25 bits with 4 probes: about 1 in 100,000 false positives.
        Assert.True(falsePositives < 50, $"{falsePositives} false positives in 100,000");
        Assert.Equal(100_000, filter.Count);
        Assert.False(filter.IsFull);
    }

    [Fact]
    public async Task A_duplicate_is_found_after_a_restart_whose_filter_is_built_from_the_log()
    {
        var first = TestStore.Create();
        first.KeepFiles = true;
        var batch = Enumerable.Range(0, 300).Select(i => TestEvents.To($"m-{i}", "sm")).ToArray();
        Assert.All(await first.Store.AcceptAsync(batch, CancellationToken.None), s => Assert.Equal(AcceptStatus.Stored, s));
        await first.DisposeAsync();

        await using var second = first.Reopen();
        var again = Enumerable.Range(295, 10).Select(i => TestEvents.To($"m-{i}", "sm")).ToArray();
        Assert.Equal(
            [.. Enumerable.Repeat(AcceptStatus.Duplicate, 5), .. Enumerable.Repeat(AcceptStatus.Stored, 5)],
            await second.Store.AcceptAsync(again, CancellationToken.None));
        Assert.Equal(305L, await second.ScalarAsync<long>("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public async Task A_row_another_writer_added_to_the_log_is_found_by_the_next_group()
    {
        await using var store = TestStore.Create();
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-1", "sm"))); // the filter is built
        var accepted = store.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        await store.ExecuteAsync($"""
            INSERT INTO events (source_id, message_id, type, received_at, body, id_hash, accepted_at)
            VALUES ('web', 'from-elsewhere', 'track', {accepted}, '{"{}"}', {LogRoutes.Hash("from-elsewhere")}, {accepted})
            """);

        Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To("from-elsewhere", "sm")));
        Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To("m-1", "sm")));
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-2", "sm")));
    }
}
