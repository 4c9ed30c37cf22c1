using Dapper;
using Destinations.Core.Delivery;
using Destinations.Storage.Postgres;
using Npgsql;

namespace Destinations.Storage.Tests;

/// <summary>
/// A PostgreSQL schema written before the log (the row shape: a delivery row per routed delivery from ingest on, a dedupe
/// row per accepted messageId) upgrades in place at start: its pending deliveries are delivered, its dead letters replay,
/// its dedupe window still refuses the old messageIds, and the old events are found by the event's story.
/// </summary>
public sealed class UpgradeFromRowShapeTests
{
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    /// <summary>The last schema version of the row shape.</summary>
    const int RowShapeVersion = 6;

    /// <summary>Rows as the row-shaped store wrote them (PostgresGroupWriter, PostgresDeliveryQueue's settlements) at
    /// <see cref="TestStore.Start"/> minus an hour: instance sm with a pending delivery never attempted, a retry (attempts 1,
    /// plan frozen), a dead letter (400, with its last request) and a delivered one; dedupe rows for all of them, expiring
    /// 24 h after they were accepted.</summary>
    static async Task WriteRowShapeAsync(TestStore store)
    {
        var builder = new NpgsqlConnectionStringBuilder(store.Options.ConnectionString);
        await using var conn = new NpgsqlConnection(builder.ConnectionString);
        await conn.OpenAsync();
        Assert.Equal(RowShapeVersion, await PostgresMigrations.ApplyAsync(conn, builder.SearchPath, CancellationToken.None, upTo: RowShapeVersion));
        var at = TestStore.Start.AddHours(-1).ToUnixTimeMilliseconds();
        var body = TestEvents.Track("x").ToJsonString();
        var rows = new (string MessageId, string Status, long Attempts, long Next, string? Plan, long? LastStatus, string? Reason, string? LastRequest)[]
        {
            ("m-pending", "pending", 0, at, null, null, null, null),
            ("m-retry", "pending", 1, at + 60_000, """{"steps":[{"name":"track"}]}""", 500, null, null),
            ("m-dead", "dead", 3, at, null, 400, "partner answered 400",
                """{"Method":"POST","Url":"https://partner.invalid/v1/event","Body":"{}"}"""),
            ("m-done", "delivered", 1, at, null, 200, null, null),
        };
        foreach (var r in rows)
        {
            var seq = await conn.ExecuteScalarAsync<long>("""
                INSERT INTO events (source_id, message_id, type, user_key, received_at, body)
                VALUES ('web', @MessageId, 'track', 'user-1', @At, @Body) RETURNING seq
                """, new { r.MessageId, At = at, Body = body.Replace("\"x\"", $"\"{r.MessageId}\"", StringComparison.Ordinal) });
            await conn.ExecuteAsync("""
                INSERT INTO deliveries (event_seq, destination_id, subscription, status, attempts, next_attempt_at, created_at,
                    first_attempt_at, updated_at, plan, last_status, reason, last_request)
                VALUES (@Seq, 'sm', 'track', @Status, @Attempts, @Next, @At, @First, @At, @Plan, @LastStatus, @Reason, @LastRequest)
                """, new { Seq = seq, r.Status, r.Attempts, r.Next, At = at, First = r.Attempts > 0 ? at : (long?)null, r.Plan, r.LastStatus, r.Reason, r.LastRequest });
            await conn.ExecuteAsync("INSERT INTO dedupe (source_id, message_id, expires_at) VALUES ('web', @MessageId, @Expires)",
                new { r.MessageId, Expires = at + (long)TimeSpan.FromHours(24).TotalMilliseconds });
        }
    }

    [Fact]
    public async Task Pending_rows_are_delivered_dead_letters_replay_and_the_dedupe_window_holds()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        await WriteRowShapeAsync(store);
        await store.EnsureMigratedAsync();
        Assert.Equal((long)PostgresMigrations.All.Max(m => m.Version), await store.ScalarAsync<long>("SELECT MAX(version) FROM schema_version"));
        // The old events got their messageId hash, so the event's story finds them.
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM events WHERE id_hash IS NULL OR user_hash IS NULL"));

        // The dedupe window of the old rows still refuses their ids; a new id is stored once.
        foreach (var id in new[] { "m-pending", "m-retry", "m-dead", "m-done" })
            Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To(id, "sm")));
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-new", "sm")));
        Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To("m-new", "sm")));

        // Pending rows (the never-attempted one and the due retry with its plan and attempt) are claimed and delivered.
        var claimed = (await store.Queue.ClaimAsync("w", 100, Lease, CancellationToken.None)).ToDictionary(c => c.MessageId);
        Assert.Equal(["m-new", "m-pending", "m-retry"], claimed.Keys.Order());
        Assert.True(claimed["m-pending"].Id > 0 && claimed["m-retry"].Id > 0); // rows from before the upgrade stay rows
        Assert.Equal((1, true), (claimed["m-retry"].Attempts, claimed["m-retry"].Plan is not null));
        foreach (var c in claimed.Values) Assert.True(await store.Queue.MarkDeliveredAsync(c, 1, CancellationToken.None));
        foreach (var id in new[] { "m-pending", "m-retry", "m-done", "m-new" })
            Assert.Equal(DeliveryStoryStatus.Delivered, (await store.StoryAsync(id)).Status);

        // The dead letter lists with its reason and request, replays, and is delivered.
        var dead = Assert.Single((await store.Admin.ListDeadLettersAsync(new DeadLetterFilter(), CancellationToken.None)).Items);
        Assert.Equal(("m-dead", 400, "partner answered 400", "https://partner.invalid/v1/event"),
            (dead.MessageId, dead.LastStatus ?? 0, dead.Reason ?? "", dead.LastRequest?.Url));
        Assert.Equal(DeliveryStoryStatus.Dead, (await store.StoryAsync("m-dead")).Status);
        Assert.Equal(1, await store.Admin.ReplayAsync(new ReplaySelection { Ids = [dead.Id] }, CancellationToken.None));
        var replayed = Assert.Single(await store.Queue.ClaimAsync("w", 100, Lease, CancellationToken.None));
        Assert.Equal(("m-dead", 0), (replayed.MessageId, replayed.Attempts));
        Assert.True(await store.Queue.MarkDeliveredAsync(replayed, 1, CancellationToken.None));
        Assert.Equal(DeliveryStoryStatus.Delivered, (await store.StoryAsync("m-dead")).Status);

        // After the old records' window (24 h from their acceptance) the ids are new again.
        store.Clock.SetUtcNow(TestStore.Start.AddHours(23).AddMinutes(1));
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-done", "sm")));
    }
}
