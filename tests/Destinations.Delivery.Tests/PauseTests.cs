using Destinations.Delivery;

namespace Destinations.Delivery.Tests;

/// <summary>D12 pausing: held deliveries, canary probes with backoff, resume (automatic and operator), PausedMaxAge; D13 age clock.</summary>
/// <summary>Runs against both providers: <see cref="SqlitePauseTests"/> and <see cref="PostgresPauseTests"/>.</summary>
public abstract class PauseTests(StoreProvider provider)
{
    static async Task<long> CountAsync(DispatchHarness h, string destination, DeliveryStoryStatus status) =>
        await h.Store.CountAsync(status, destination);

    [Fact]
    public async Task A_401_storm_on_A_pauses_A_while_B_keeps_delivering_then_a_canary_resumes_A_D12()
    {
        var a = new FakeDestination("a").Answer(FakeDestination.Status(401), FakeDestination.Status(401));
        var b = new FakeDestination("b");
        await using var h = new DispatchHarness(provider, destinations: [a, b]);
        for (var i = 1; i <= 3; i++) await h.Store.AcceptOneAsync(TestEvents.To($"m-{i}", "a", "b"));

        await h.RunPassAsync(); // the first 401 pauses A: its other claimed rows go back unsent
        Assert.Equal(3L, await CountAsync(h, "b", DeliveryStoryStatus.Delivered));
        Assert.Single(a.SentSteps);
        Assert.Equal(0, await h.Store.AttemptsAsync("a"));
        var state = await h.Store.Queue.GetInstanceAsync("a", CancellationToken.None);
        Assert.Equal((InstanceHold.Paused, TestStore.Start, TestStore.Start.AddSeconds(30), "partner answered 401: credentials problem; paused until a canary succeeds or an operator resumes it"),
            (state.Hold, state.HeldSince, state.NextProbeAt, state.HoldReason));

        // New events: B goes on, A is not even tried.
        await h.Store.AcceptOneAsync(TestEvents.To("m-4", "a", "b"));
        await h.RunPassAsync();
        Assert.Equal(4L, await CountAsync(h, "b", DeliveryStoryStatus.Delivered));
        Assert.Single(a.SentSteps);

        // The first canary (after ProbeBaseDelay, 30 s) fails: the next one waits 60 s.
        h.Store.Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal([DeliveryOutcome.Held], await h.RunPassAsync());
        Assert.Equal(h.Now.AddSeconds(60), (await h.Store.Queue.GetInstanceAsync("a", CancellationToken.None)).NextProbeAt);
        h.Store.Clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(await h.RunPassAsync());

        // The next canary succeeds: A resumes and its held deliveries go, each counted once.
        h.Store.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([DeliveryOutcome.Delivered], await h.RunPassAsync());
        Assert.False((await h.Store.Queue.GetInstanceAsync("a", CancellationToken.None)).IsHeld);
        Assert.Equal(3, (await h.RunPassAsync()).Count(o => o == DeliveryOutcome.Delivered));
        Assert.Equal(4L, await CountAsync(h, "a", DeliveryStoryStatus.Delivered));
        Assert.Equal(4, await h.Store.AttemptsAsync("a"));
        Assert.Equal(1 + 1 + 4, a.SentSteps.Count);
    }

    [Fact]
    public async Task An_operator_resume_releases_held_deliveries_and_paused_time_does_not_age_them_D12_D13()
    {
        var a = new FakeDestination("a").Answer(FakeDestination.Status(403), FakeDestination.Status(503));
        await using var h = new DispatchHarness(provider, configure: o => o.MinAttempts = 1, destinations: a);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "a"));
        Assert.Equal([DeliveryOutcome.Held], await h.RunPassAsync());

        h.Store.Clock.Advance(TimeSpan.FromHours(10)); // paused for 10 h, no probe run meanwhile
        var stats = await h.Store.Admin.GetStatsAsync("a", CancellationToken.None);
        Assert.Equal((InstanceHold.Paused, 1L), (stats.State!.Hold, stats.Held));
        Assert.True(await h.Store.Admin.ResumeAsync("a", CancellationToken.None));
        Assert.False(await h.Store.Admin.ResumeAsync("a", CancellationToken.None));
        Assert.Equal((long)TimeSpan.FromHours(10).TotalMilliseconds, (await h.RowAsync()).held_ms);

        // 10 h old by the wall clock, 0 h by D13's (paused time not counted): a 503 is retried, not given up (MinAttempts 1).
        Assert.Equal([DeliveryOutcome.RetryScheduled], await h.RunPassAsync());
        Assert.Equal(1L, (await h.RowAsync()).attempts);
    }

    [Fact]
    public async Task Deliveries_held_longer_than_PausedMaxAge_become_dead_letters_D12()
    {
        var a = new FakeDestination("a").Answer(FakeDestination.Status(401));
        await using var h = new DispatchHarness(provider, destinations: a);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "a"));
        await h.RunPassAsync();
        h.Store.Clock.Advance(TimeSpan.FromHours(48));
        await h.Store.AcceptOneAsync(TestEvents.To("m-2", "a")); // held for 24 h only at the check below

        h.Store.Clock.Advance(TimeSpan.FromHours(24));
        Assert.Equal(0, await h.Store.Queue.ExpireHeldAsync(h.Options.PausedMaxAge, CancellationToken.None));
        h.Store.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await h.Store.Queue.ExpireHeldAsync(h.Options.PausedMaxAge, CancellationToken.None));

        var dead = Assert.Single((await h.Store.Admin.ListDeadLettersAsync(new DeadLetterFilter(), CancellationToken.None)).Items);
        Assert.Equal(("m-1", "held for more than 72 h while the instance was paused (Delivery:PausedMaxAge)", 401, 0),
            (dead.MessageId, dead.Reason, dead.LastStatus, dead.Attempts));
        Assert.Equal(DeliveryStoryStatus.Pending, (await h.StoryAsync("m-2")).Status);
    }
}

public sealed class SqlitePauseTests() : PauseTests(StoreProvider.Sqlite);

public sealed class PostgresPauseTests() : PauseTests(StoreProvider.Postgres);
