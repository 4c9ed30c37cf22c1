using Destinations.Core.Delivery;
using Microsoft.Extensions.Time.Testing;

namespace Destinations.Storage.Tests;

/// <summary>
/// A database written by the store before the log (schema 7, Fixtures/schema7.db, see Fixtures/README.md) upgrades in place
/// at start: its pending deliveries are delivered, its dead letters list and replay, its dedupe window still rejects the old
/// messageIds, the paused instance stays paused, and new events go through the log.
/// </summary>
public sealed class UpgradeFromSchema7Tests
{
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "schema7.db");

    static TestStore Open(TimeSpan after) => TestStore.FromFile(Fixture, new FakeTimeProvider(TestStore.Start + after));

    [Fact]
    public async Task Pending_deliveries_keep_their_attempts_plans_and_progress_and_are_delivered()
    {
        await using var store = Open(TimeSpan.FromMinutes(10));
        await store.EnsureMigratedAsync();
        Assert.Equal(8L, await store.ScalarAsync<long>("SELECT MAX(version) FROM schema_version"));

        var stats = await store.Queue.GetStatsAsync("sm", CancellationToken.None);
        Assert.Equal((3L, 2L, 2L, 2L), (stats.PendingNew, stats.Retrying, stats.Delivered, stats.Dead));

        var claimed = (await store.Queue.ClaimAsync("w", 100, Lease, CancellationToken.None)).ToDictionary(c => c.MessageId);
        Assert.Equal(["m-new-1", "m-new-2", "m-new-3", "m-part", "m-retry"], claimed.Keys.Order());
        Assert.All(claimed.Values, c => Assert.True(c.Id > 0)); // rows from before the upgrade stay rows
        Assert.Equal((1, 1), (claimed["m-part"].StepsDone, claimed["m-part"].Attempts));
        Assert.Contains("\"alias\"", claimed["m-part"].Plan);
        Assert.Equal((0, 1), (claimed["m-retry"].StepsDone, claimed["m-retry"].Attempts));
        Assert.NotNull(claimed["m-retry"].Plan);
        Assert.Null(claimed["m-new-1"].Plan);

        foreach (var c in claimed.Values) Assert.True(await store.Queue.MarkDeliveredAsync(c, 1, CancellationToken.None));
        Assert.All(claimed.Keys, id => Assert.Equal(DeliveryStoryStatus.Delivered, store.StoryAsync(id).GetAwaiter().GetResult().Status));
        Assert.Equal(7L, (await store.Queue.GetStatsAsync("sm", CancellationToken.None)).Delivered);

        // Events accepted after the upgrade go through the log: no row, delivered from the instance's cursor.
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-after", "sm")));
        var fresh = Assert.Single(await store.Queue.ClaimAsync("w", 100, Lease, CancellationToken.None));
        Assert.Equal(("m-after", true), (fresh.MessageId, fresh.Id < 0));
        Assert.True(await store.Queue.MarkDeliveredAsync(fresh, 1, CancellationToken.None));
        Assert.Equal(DeliveryStoryStatus.Delivered, (await store.StoryAsync("m-after")).Status);
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE e.message_id = 'm-after'"));
    }

    [Fact]
    public async Task Dead_letters_list_and_replay()
    {
        await using var store = Open(TimeSpan.FromMinutes(10));
        var dead = (await store.Admin.ListDeadLettersAsync(new DeadLetterFilter(), CancellationToken.None)).Items;
        Assert.Equal([("m-dead-1", 400, "partner answered 400"), ("m-dead-2", 422, "partner answered 422")],
            dead.Select(d => (d.MessageId, d.LastStatus ?? 0, d.Reason ?? "")));
        Assert.Equal("https://partner.invalid/v1/event", dead[0].LastRequest?.Url);
        Assert.Contains("Signed Up", dead[0].EventBody);

        Assert.Equal(1, await store.Admin.ReplayAsync(new ReplaySelection { Ids = [dead[0].Id] }, CancellationToken.None));
        var replayed = Assert.Single(await store.Queue.ClaimAsync("w", 100, Lease, CancellationToken.None), c => c.MessageId == "m-dead-1");
        Assert.Equal((0, (string?)null), (replayed.Attempts, replayed.Plan));
        Assert.True(await store.Queue.MarkDeliveredAsync(replayed, 1, CancellationToken.None));
        Assert.Equal(DeliveryStoryStatus.Delivered, (await store.StoryAsync("m-dead-1")).Status);
    }

    [Fact]
    public async Task The_dedupe_window_still_rejects_the_old_messageIds_until_it_ends()
    {
        await using (var store = Open(TimeSpan.FromHours(23)))
        {
            foreach (var id in new[] { "m-new-1", "m-done-1", "m-dead-1", "m-nowhere" })
                Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To(id, "sm")));
            Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-unseen", "sm")));
            Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To("m-unseen", "sm")));
            Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.Incoming("m-nowhere", [new("sm", "track")], source: "app")));
        }

        // The old records expired at 2026-03-02T12:00Z: the ids are new again.
        await using (var later = Open(TimeSpan.FromHours(24) + TimeSpan.FromMilliseconds(1)))
        {
            Assert.Equal(AcceptStatus.Stored, await later.AcceptOneAsync(TestEvents.To("m-nowhere", "sm")));
            Assert.Equal(AcceptStatus.Stored, await later.AcceptOneAsync(TestEvents.To("m-done-1", "sm")));
        }
    }

    [Fact]
    public async Task The_paused_instance_stays_paused_and_its_deliveries_wait_for_the_canary()
    {
        await using var store = Open(TimeSpan.FromMinutes(10));
        var state = await store.Queue.GetInstanceAsync("paused", CancellationToken.None);
        Assert.Equal((InstanceHold.Paused, "partner answered 401", TestStore.Start.AddMinutes(31)), (state.Hold, state.HoldReason, state.NextProbeAt));
        Assert.DoesNotContain(await store.Queue.ClaimAsync("w", 100, Lease, CancellationToken.None), c => c.DestinationId == "paused");
        Assert.Equal(2L, (await store.Queue.GetStatsAsync("paused", CancellationToken.None)).Held);

        store.Clock.SetUtcNow(TestStore.Start.AddMinutes(31));
        var canary = Assert.Single(await store.Queue.ClaimAsync("w", 100, Lease, CancellationToken.None), c => c.DestinationId == "paused");
        Assert.Equal(("m-paused-1", true), (canary.MessageId, canary.IsProbe));
        // Paused since 12:01: its wait counts as held time for the D13 age clock (PausedMaxAge, D12).
        Assert.Equal(TimeSpan.FromMinutes(30), canary.HeldFor);
    }
}
