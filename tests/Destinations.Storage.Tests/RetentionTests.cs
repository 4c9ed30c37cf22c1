using Destinations.Core.Delivery;

namespace Destinations.Storage.Tests;

/// <summary>Runs against both providers: <see cref="SqliteRetentionTests"/> and <see cref="PostgresRetentionTests"/>.</summary>
public abstract class RetentionTests(StoreProvider provider)
{
    [Fact]
    public async Task Purge_keeps_delivered_7_days_dead_letters_and_counters_30_days_D17()
    {
        await using var store = TestStore.Create(provider);
        var retention = new RetentionOptions { PurgeBatchSize = 1 };
        await store.AcceptOneAsync(TestEvents.Incoming("m-1", [new("sm", "track"), new("um", "track")], [new RouterFilter("smc", FilterReason.SourceNotLinked)]));
        await store.AcceptOneAsync(TestEvents.To("m-2", "sm"));
        await store.AcceptOneAsync(TestEvents.To("m-3", "sm"));
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm")); // a duplicate, counted
        var rows = await store.Queue.ClaimAsync("w", 10, TimeSpan.FromMinutes(1), CancellationToken.None);
        await store.Queue.MarkDeliveredAsync(rows.Single(r => r.MessageId == "m-1" && r.DestinationId == "sm"), 1, CancellationToken.None);
        await store.Queue.MarkDeliveredAsync(rows.Single(r => r.MessageId == "m-2"), 1, CancellationToken.None);
        await store.Queue.MarkDeadAsync(rows.Single(r => r.MessageId == "m-3"), "partner answered 400", null, null, CancellationToken.None);
        await store.Queue.ScheduleRetryAsync(rows.Single(r => r.DestinationId == "um"), TestStore.Start.AddDays(60), FakeDestination.Status(503), null, CancellationToken.None);

        store.Clock.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        await store.PurgeAsync(retention);

        // m-2 is gone with its only delivery (on SQLite's log: every cursor passed it); m-1 stays for its pending delivery to
        // um; m-3 is a dead letter.
        Assert.Equal(["m-1", "m-3"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"));
        Assert.Equal([("um", "pending"), ("sm", "dead")], await store.QueryAsync<(string, string)>("SELECT destination_id, status FROM deliveries ORDER BY event_seq"));
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM dedupe")); // expired after 24 h (D5)
        Assert.Equal(1L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM filter_counts"));

        store.Clock.Advance(TimeSpan.FromDays(24));
        await store.PurgeAsync(retention);

        // The newest event is never purged (on SQLite a seq would be handed out twice).
        Assert.Equal(["m-1", "m-3"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"));
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM filter_counts") + await store.ScalarAsync<long>("SELECT COUNT(*) FROM duplicate_counts"));
    }
}

public sealed class SqliteRetentionTests() : RetentionTests(StoreProvider.Sqlite);

public sealed class PostgresRetentionTests() : RetentionTests(StoreProvider.Postgres);
