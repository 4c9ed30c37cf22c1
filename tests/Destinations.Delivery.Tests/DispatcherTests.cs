using Destinations.Delivery;
using Microsoft.Extensions.Logging.Abstractions;

namespace Destinations.Delivery.Tests;

/// <summary>Runs against both providers: <see cref="SqliteDispatcherTests"/> and <see cref="PostgresDispatcherTests"/>.</summary>
public abstract class DispatcherTests(StoreProvider provider)
{
    [Fact]
    public async Task Idle_workers_wake_on_a_commit_instead_of_waiting_for_the_poll()
    {
        var partner = new FakeDestination("sm");
        // PollInterval of an hour on a clock that never moves: only the DispatchSignal can wake the workers.
        await using var h = new DispatchHarness(provider, configure: o => { o.Workers = 2; o.PollInterval = TimeSpan.FromHours(1); }, destinations: partner);
        await h.Store.EnsureMigratedAsync();
        using var dispatcher = new Dispatcher(h.Store.Queue, h.Sender, h.Store.Signal,
            Microsoft.Extensions.Options.Options.Create(h.Options), h.Store.Clock, NullLogger<Dispatcher>.Instance);
        await dispatcher.StartAsync(CancellationToken.None);
        await Task.Delay(200); // both workers found nothing and are idle

        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        await h.Store.AcceptOneAsync(TestEvents.To("m-2", "sm"));

        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (await h.Store.CountAsync(DeliveryStoryStatus.Delivered) < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.Equal(2, await h.Store.CountAsync(DeliveryStoryStatus.Delivered));
        Assert.Equal(["event", "event"], partner.SentSteps);
    }

    [Theory]
    [InlineData(1000, new[] { 5 })]        // the commits made while one worker lingers go in its one claim and one call
    [InlineData(0, new[] { 1, 1, 1, 1, 1 })] // no linger: each commit's event is claimed and sent on its own
    public async Task Commits_made_while_a_worker_lingers_share_its_claim(int lingerMs, int[] calls)
    {
        var partner = new FakeDestination("sm") { MaxBatchSize = 10 };
        await using var h = new DispatchHarness(provider, configure: o =>
        {
            o.Workers = 4;
            o.PollInterval = TimeSpan.FromHours(1);
            o.ClaimLinger = TimeSpan.FromMilliseconds(lingerMs);
        }, destinations: partner);
        await h.Store.EnsureMigratedAsync();
        using var dispatcher = new Dispatcher(h.Store.Queue, h.Sender, h.Store.Signal,
            Microsoft.Extensions.Options.Options.Create(h.Options), h.Store.Clock, NullLogger<Dispatcher>.Instance);
        await dispatcher.StartAsync(CancellationToken.None);
        await Task.Delay(200); // every worker found nothing and sleeps

        for (var i = 1; i <= 5; i++)
        {
            await h.Store.AcceptOneAsync(TestEvents.To($"m-{i}", "sm"));
            // Without a linger, wait until this event is sent, so each one is its own claim whatever the timing.
            var sentBefore = DateTime.UtcNow.AddSeconds(2);
            while (lingerMs == 0 && partner.SentSteps.Count + partner.BatchSizes.Sum() < i && DateTime.UtcNow < sentBefore)
                await Task.Delay(5);
        }

        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (await h.Store.CountAsync(DeliveryStoryStatus.Delivered) < 5 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.Equal(5, await h.Store.CountAsync(DeliveryStoryStatus.Delivered));
        // A claim of one is sent on its own (SendAsync); a claim of several shares one call (SendBatchAsync).
        Assert.Equal(calls, partner.BatchSizes.Concat(partner.SentSteps.Select(_ => 1)).ToArray());
    }

    [Fact]
    public async Task Stopping_mid_send_gives_the_row_back_without_counting_an_attempt()
    {
        var sending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var partner = new FakeDestination("sm")
        {
            BeforeAnswer = async ct => { sending.TrySetResult(); await Task.Delay(Timeout.Infinite, ct); },
        };
        await using var h = new DispatchHarness(provider, configure: o => { o.Workers = 1; o.PollInterval = TimeSpan.FromHours(1); }, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        using var dispatcher = new Dispatcher(h.Store.Queue, h.Sender, h.Store.Signal,
            Microsoft.Extensions.Options.Options.Create(h.Options), h.Store.Clock, NullLogger<Dispatcher>.Instance);

        await dispatcher.StartAsync(CancellationToken.None);
        await sending.Task.WaitAsync(TimeSpan.FromSeconds(2));
        await dispatcher.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));

        Assert.Equal((DeliveryStoryStatus.Pending, 0), ((await h.StoryAsync("m-1")).Status, (await h.StoryAsync("m-1")).Attempts));
        Assert.Equal(0L, await h.Store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries")); // given back: it waits in the log
        Assert.Equal(["event"], partner.SentSteps);
    }
}

public sealed class SqliteDispatcherTests() : DispatcherTests(StoreProvider.Sqlite);

public sealed class PostgresDispatcherTests() : DispatcherTests(StoreProvider.Postgres);
