using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Destinations.Host.OperatorConsole;

/// <summary>One line of the live tail: an accepted event or a delivery outcome.</summary>
/// <param name="Kind"><c>accepted</c>, <c>duplicate</c>, or a delivery outcome: <c>delivered</c>, <c>retry</c>, <c>dead</c>,
/// <c>filtered</c>, <c>invalid</c>, <c>held</c>.</param>
/// <param name="Destination">The instance of a delivery outcome; null for an accepted event.</param>
/// <param name="Destinations">An accepted event: the instances it was routed to.</param>
/// <param name="Detail">The outcome in words (status, reason); never a payload value other than ids.</param>
public sealed record LiveLine(
    string Kind,
    DateTimeOffset At,
    string? Source,
    string? Destination,
    IReadOnlyList<string> Destinations,
    string Type,
    string MessageId,
    string? UserId,
    string? Detail);

/// <summary>What one browser asked to see.</summary>
public sealed record LiveFilter(string? Destination, string? Type, string? UserId)
{
    public bool Matches(LiveLine line) =>
        (string.IsNullOrEmpty(Destination) || line.Destination == Destination || line.Destinations.Contains(Destination))
        && (string.IsNullOrEmpty(Type) || string.Equals(line.Type, Type, StringComparison.OrdinalIgnoreCase))
        && (string.IsNullOrEmpty(UserId) || line.UserId == UserId);
}

/// <summary>
/// The in-process broadcast behind the live tail. Publishing never waits: each watching browser has a bounded buffer, and
/// when it falls behind its oldest lines are dropped (the events themselves are stored; only this view of them is lossy).
/// With no browser watching, publishers skip building lines at all (<see cref="HasWatchers"/>). Each process publishes what
/// it saw: with PostgreSQL replicas, a console tails the replica that serves it.
/// </summary>
public sealed class LiveFeed(IOptions<ConsoleOptions> options)
{
    readonly Lock _gate = new();
    Watcher[] _watchers = [];

    sealed record Watcher(Channel<LiveLine> Channel, LiveFilter Filter);

    public bool HasWatchers => WatcherCount > 0;

    /// <summary>Browsers watching now (a stream counts once it has subscribed, just after its first "connected" line).</summary>
    public int WatcherCount => Volatile.Read(ref _watchers).Length;

    public void Publish(LiveLine line)
    {
        foreach (var w in Volatile.Read(ref _watchers))
            if (w.Filter.Matches(line)) w.Channel.Writer.TryWrite(line);
    }

    /// <summary>Starts buffering the lines that match <paramref name="filter"/> at once; read them from the subscription.</summary>
    public Subscription Subscribe(LiveFilter filter)
    {
        var channel = Channel.CreateBounded<LiveLine>(new BoundedChannelOptions(Math.Max(1, options.Value.LiveBufferLines))
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        });
        var watcher = new Watcher(channel, filter);
        lock (_gate) _watchers = [.. _watchers, watcher];
        return new Subscription(() => { lock (_gate) _watchers = _watchers.Where(w => w != watcher).ToArray(); }, channel.Reader);
    }

    /// <summary>The lines published from now on that match <paramref name="filter"/>, until <paramref name="ct"/> ends.</summary>
    public async IAsyncEnumerable<LiveLine> WatchAsync(LiveFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        using var subscription = Subscribe(filter);
        await foreach (var line in subscription.ReadAllAsync(ct).ConfigureAwait(false))
            yield return line;
    }

    /// <summary>One browser's buffer; disposing it stops the feed writing to it.</summary>
    public sealed class Subscription(Action unsubscribe, ChannelReader<LiveLine> reader) : IDisposable
    {
        public IAsyncEnumerable<LiveLine> ReadAllAsync(CancellationToken ct) => reader.ReadAllAsync(ct);

        public void Dispose() => unsubscribe();
    }
}
