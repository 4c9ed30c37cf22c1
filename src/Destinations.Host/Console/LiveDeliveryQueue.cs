using System.Text.Json.Nodes;
using Destinations.Core.Storage;

namespace Destinations.Host.OperatorConsole;

/// <summary>
/// The store's <see cref="IDeliveryQueue"/> with each written outcome also published to the <see cref="LiveFeed"/>. Every
/// call goes to the store unchanged; lines are built only while a browser watches.
/// </summary>
public class LiveDeliveryQueue(IDeliveryQueue inner, LiveFeed feed, TimeProvider time) : IDeliveryQueue
{
    protected IDeliveryQueue Inner => inner;

    public Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(ClaimRequest request, CancellationToken ct) => inner.ClaimAsync(request, ct);

    public async Task<bool[]> SettleAsync(IReadOnlyList<Settlement> settlements, CancellationToken ct)
    {
        var written = await inner.SettleAsync(settlements, ct).ConfigureAwait(false);
        if (feed.HasWatchers)
            for (var i = 0; i < settlements.Count; i++)
                if (written[i] && Line(settlements[i]) is { } line) feed.Publish(line);
        return written;
    }

    LiveLine? Line(Settlement s)
    {
        var kind = s.Kind switch
        {
            SettlementKind.Delivered => "delivered",
            SettlementKind.Filtered => "filtered",
            SettlementKind.Invalid => "invalid",
            SettlementKind.RetryScheduled => "retry",
            SettlementKind.Held => "held",
            SettlementKind.Dead => "dead",
            _ => null, // progress, release and postponement are not outcomes
        };
        if (kind is null) return null;
        var d = s.Delivery;
        var detail = s.Failure is { } f ? $"{(f.StatusCode is { } code ? $"HTTP {code}" : f.Error)}" : null;
        if (s.Reason is { } reason) detail = detail is null ? reason : $"{detail}: {reason}";
        if (s.Kind == SettlementKind.RetryScheduled) detail = $"{detail}; next attempt {s.At:HH:mm:ss}";
        return new LiveLine(kind, time.GetUtcNow(), null, d.DestinationId, [], TypeOf(d.EventBody), d.MessageId,
            d.UserKey, detail);
    }

    static string TypeOf(string body)
    {
        try
        {
            return JsonNode.Parse(body)?["type"]?.GetValue<string>() ?? "";
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            return "";
        }
    }

    public Task<InstanceState> GetInstanceAsync(string destinationId, CancellationToken ct) => inner.GetInstanceAsync(destinationId, ct);

    public Task<InstanceState> UpdateInstanceAsync(string destinationId, Func<InstanceState, InstanceState> change, CancellationToken ct) =>
        inner.UpdateInstanceAsync(destinationId, change, ct);

    public Task<int> ExpireHeldAsync(TimeSpan pausedMaxAge, CancellationToken ct) => inner.ExpireHeldAsync(pausedMaxAge, ct);

    public Task<DestinationStats> GetStatsAsync(string destinationId, CancellationToken ct) => inner.GetStatsAsync(destinationId, ct);

    public Task<bool> IsReadyAsync(CancellationToken ct) => inner.IsReadyAsync(ct);
}

/// <summary>The same over a store that shares rate limits between replicas: the dispatcher finds <see cref="ISharedRateLimits"/>
/// by type, so the wrapper keeps offering it exactly when the store does.</summary>
public sealed class SharedLiveDeliveryQueue(IDeliveryQueue inner, LiveFeed feed, TimeProvider time)
    : LiveDeliveryQueue(inner, feed, time), ISharedRateLimits
{
    public Task ThrottleAsync(string destinationId, DateTimeOffset throttledUntil, DateTimeOffset? blockedUntil, CancellationToken ct) =>
        ((ISharedRateLimits)Inner).ThrottleAsync(destinationId, throttledUntil, blockedUntil, ct);
}
