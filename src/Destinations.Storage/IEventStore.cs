using Destinations.Core.Routing;
using Destinations.Core.Segment;

namespace Destinations.Storage;

/// <summary>An event the ingress accepted and routed, ready to be stored with its delivery rows (D7) and filter counts (D8).</summary>
public sealed record IncomingEvent(string SourceId, SegmentEvent Event, RoutingDecision Routing);

public enum AcceptStatus
{
    /// <summary>The event and its delivery rows are committed (durable): it may be acknowledged.</summary>
    Stored,
    /// <summary>(sourceId, messageId) was seen within the dedupe window (D5): acknowledged, counted, not stored again.</summary>
    Duplicate,
}

/// <summary>
/// The ingress side of the store. <see cref="AcceptAsync"/> returns only after the events and their deliveries are committed;
/// concurrent callers share one transaction (group commit). Storage trouble throws <see cref="StoreUnavailableException"/>
/// (the ingress answers 503 with Retry-After, D1).
/// </summary>
public interface IEventStore
{
    /// <summary>Stores the events in one durable commit; the result has one status per input, in order.</summary>
    Task<IReadOnlyList<AcceptStatus>> AcceptAsync(IReadOnlyList<IncomingEvent> events, CancellationToken ct);

    /// <summary>True when the store can be read and written (readiness probe).</summary>
    Task<bool> IsReadyAsync(CancellationToken ct);
}

public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
