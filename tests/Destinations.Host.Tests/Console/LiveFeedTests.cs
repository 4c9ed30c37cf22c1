using System.Diagnostics;
using Destinations.Host.OperatorConsole;
using Microsoft.Extensions.Options;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>The live tail's broadcast: bounded per browser, filtered, and publishing never waits for a slow reader.</summary>
public sealed class LiveFeedTests
{
    static LiveLine Line(int i, string destination = "sm", string type = "track", string? user = "u1") =>
        new("delivered", DateTimeOffset.UnixEpoch, null, destination, [], type, $"m-{i}", user, null);

    [Fact]
    public async Task A_reader_that_never_reads_loses_its_oldest_lines_and_never_slows_the_publisher()
    {
        var feed = new LiveFeed(Options.Create(new ConsoleOptions { LiveBufferLines = 100 }));
        using var cts = new CancellationTokenSource();
        var lines = feed.WatchAsync(new LiveFilter(null, null, null), cts.Token).GetAsyncEnumerator(cts.Token);
        var first = lines.MoveNextAsync(); // subscribes, then waits for a line
        Assert.True(SpinWait.SpinUntil(() => feed.HasWatchers, TimeSpan.FromSeconds(5)));

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 200_000; i++) feed.Publish(Line(i));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"publishing took {clock.Elapsed}");

        var received = new List<string>();
        Assert.True(await first);
        received.Add(lines.Current.MessageId);
        while (received[^1] != "m-199999" && await lines.MoveNextAsync()) received.Add(lines.Current.MessageId);
        // The buffer kept the newest lines (plus, at most, one handed to the waiting reader): the oldest unsent were dropped.
        Assert.InRange(received.Count, 100, 101);
        Assert.Equal(Enumerable.Range(200_000 - 100, 100).Select(i => $"m-{i}"), received[^100..]);
        await cts.CancelAsync();
        await lines.DisposeAsync();
        Assert.False(feed.HasWatchers);
    }

    [Fact]
    public async Task Each_reader_gets_only_what_its_filter_matches()
    {
        var feed = new LiveFeed(Options.Create(new ConsoleOptions()));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var lines = feed.WatchAsync(new LiveFilter("um", "identify", "u2"), cts.Token).GetAsyncEnumerator(cts.Token);
        var next = lines.MoveNextAsync();
        Assert.True(SpinWait.SpinUntil(() => feed.HasWatchers, TimeSpan.FromSeconds(5)));
        feed.Publish(Line(1, destination: "sm", type: "identify", user: "u2"));
        feed.Publish(Line(2, destination: "um", type: "track", user: "u2"));
        feed.Publish(Line(3, destination: "um", type: "identify", user: "u1"));
        // An accepted event matches by the instances it was routed to.
        feed.Publish(new LiveLine("accepted", DateTimeOffset.UnixEpoch, "web", null, ["sm", "um"], "identify", "m-4", "u2", null));
        Assert.True(await next);
        Assert.Equal("m-4", lines.Current.MessageId);
        await cts.CancelAsync();
        await lines.DisposeAsync();
    }
}
