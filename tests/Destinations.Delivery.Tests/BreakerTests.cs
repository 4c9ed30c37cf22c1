using Destinations.Delivery;

namespace Destinations.Delivery.Tests;

/// <summary>The per-instance circuit breaker: a 5xx storm holds the instance without burning attempts; a probe closes it.</summary>
/// <summary>Runs against both providers: <see cref="SqliteBreakerTests"/> and <see cref="PostgresBreakerTests"/>.</summary>
public abstract class BreakerTests(StoreProvider provider)
{
    [Fact]
    public async Task Five_failures_in_a_row_open_the_breaker_hold_the_rest_and_a_successful_probe_closes_it()
    {
        var a = new FakeDestination("a").Answer(Enumerable.Repeat(FakeDestination.Status(503), 6).ToArray());
        var b = new FakeDestination("b");
        await using var h = new DispatchHarness(provider, destinations: [a, b]);
        for (var i = 1; i <= 8; i++) await h.Store.AcceptOneAsync(TestEvents.To($"m-{i}", "a"));
        await h.Store.AcceptOneAsync(TestEvents.To("m-b", "b"));

        await h.RunPassAsync(); // five 503s for A open the breaker: A's other claimed rows go back unsent; B is served alongside
        var state = await h.Store.Queue.GetInstanceAsync("a", CancellationToken.None);
        Assert.Equal((InstanceHold.BreakerOpen, 5, h.Now.AddSeconds(30)), (state.Hold, state.ConsecutiveFailures, state.NextProbeAt));
        Assert.StartsWith("circuit breaker open: 5 failures in a row (HTTP 503)", state.HoldReason);
        Assert.Equal(1, await h.Store.CountAsync(DeliveryStoryStatus.Delivered, "b"));

        // Due retries and new rows of A are held: no send, no attempt.
        h.Store.Clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Empty(await h.RunPassAsync());
        Assert.Equal(5, a.SentSteps.Count);
        Assert.Equal(0, (await h.Store.DeliveriesAsync()).Where(d => d.Destination == "a" && d.MessageId is "m-6" or "m-7" or "m-8").Sum(d => d.Attempts));

        // The probe fails (the 6th 503, counted on the canary only), then the next probe succeeds and closes the breaker.
        h.Store.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal([DeliveryOutcome.RetryScheduled], await h.RunPassAsync());
        h.Store.Clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal([DeliveryOutcome.Delivered], await h.RunPassAsync());
        Assert.Equal(InstanceHold.None, (await h.Store.Queue.GetInstanceAsync("a", CancellationToken.None)).Hold);
        h.Store.Clock.Advance(TimeSpan.FromHours(1));
        await h.RunPassAsync();
        Assert.Equal(8, await h.Store.CountAsync(DeliveryStoryStatus.Delivered, "a"));
    }

    [Fact]
    public async Task Failures_spread_wider_than_the_window_do_not_open_it_and_429_never_counts()
    {
        var a = new FakeDestination("a").Answer(
            FakeDestination.Status(503), FakeDestination.Status(503), FakeDestination.Status(503), FakeDestination.Status(429), FakeDestination.Status(429),
            FakeDestination.Status(503), FakeDestination.Status(503), FakeDestination.Status(503));
        await using var h = new DispatchHarness(provider, destinations: a);
        for (var i = 1; i <= 5; i++) await h.Store.AcceptOneAsync(TestEvents.To($"m-{i}", "a"));
        await h.RunPassAsync();
        var state = await h.Store.Queue.GetInstanceAsync("a", CancellationToken.None);
        Assert.Equal((InstanceHold.None, 3), (state.Hold, state.ConsecutiveFailures));

        h.Store.Clock.Advance(TimeSpan.FromMinutes(2)); // past BreakerWindow: the count starts again (3 + 3 would open it)
        await h.RunPassAsync();
        Assert.Equal(8 + 2, a.SentSteps.Count);
        Assert.Equal(InstanceHold.None, (await h.Store.Queue.GetInstanceAsync("a", CancellationToken.None)).Hold);
    }
}

public sealed class SqliteBreakerTests() : BreakerTests(StoreProvider.Sqlite);

public sealed class PostgresBreakerTests() : BreakerTests(StoreProvider.Postgres);
