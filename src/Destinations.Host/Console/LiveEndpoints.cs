using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;

namespace Destinations.Host.OperatorConsole;

/// <summary><c>GET /console/live/stream</c>: the live tail as server-sent events (console session required).</summary>
public static class LiveEndpoints
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/console/live/stream", Stream).RequireAuthorization(ConsoleSession.Policy).ExcludeFromDescription();

    static IResult Stream(LiveFeed feed, TimeProvider time, string? destination, string? type, string? user, CancellationToken ct) =>
        TypedResults.ServerSentEvents(Lines(feed, time, new LiveFilter(destination, type, user), ct));

    static async IAsyncEnumerable<SseItem<LiveLine>> Lines(LiveFeed feed, TimeProvider time, LiveFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        // Subscribed before "connected" is sent, so every line published after the page shows "connected" reaches it.
        using var subscription = feed.Subscribe(filter);
        // A first line at once, so the page can show "connected" before any event arrives.
        yield return new SseItem<LiveLine>(new LiveLine("connected", time.GetUtcNow(), null, null, [], "", "", null, null), "status");
        await foreach (var line in subscription.ReadAllAsync(ct))
            yield return new SseItem<LiveLine>(line, "line");
    }
}
