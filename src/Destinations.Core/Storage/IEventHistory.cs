namespace Destinations.Core.Storage;

/// <summary>
/// The story of one accepted event (the operator console's "what happened to E?"): what routing decided, and per destination
/// instance and subscription where its delivery stands — answered from the store, so right across restarts and replicas.
/// </summary>
public interface IEventHistory
{
    /// <summary>Every stored event with this messageId (one per source, or only <paramref name="sourceId"/>'s), oldest first;
    /// empty when none is stored (never accepted, a duplicate, or purged by retention).</summary>
    Task<IReadOnlyList<EventStory>> GetAsync(string messageId, string? sourceId, CancellationToken ct);
}

/// <param name="Seq">The event's position in the store (ingest order).</param>
/// <param name="Deliveries">One per (instance, subscription) routing chose, in routing order (row order for events stored
/// before the log kept routing decisions).</param>
/// <param name="RouterFiltered">Instances routing did not give it to, with the filter reason code (D8); empty where the
/// store keeps only counters for them.</param>
public sealed record EventStory(
    long Seq,
    string SourceId,
    string MessageId,
    string Type,
    IReadOnlyList<DeliveryStory> Deliveries,
    IReadOnlyList<RouterFilterStory> RouterFiltered);

public enum DeliveryStoryStatus
{
    /// <summary>Waiting, in flight or retrying.</summary>
    Pending,
    Delivered,
    /// <summary>Mapper-time filter (D8): <see cref="DeliveryStory.Reason"/> is its code.</summary>
    Filtered,
    Invalid,
    /// <summary>A dead letter (<see cref="DeliveryStory.Reason"/>).</summary>
    Dead,
}

/// <param name="DeliveryId">The delivery's row, when it has one (a first-pass success on the SQLite log has none).</param>
/// <param name="NextAttemptAt">Pending with a row: when it is due.</param>
/// <param name="LastStatus">The partner's last HTTP status (for a first-pass success on the log: its call's).</param>
/// <param name="LastCallAt">A first-pass success on the log: when the partner call that carried it was answered.</param>
/// <param name="CallId">A first-pass success on the log: that call's record (one per call, shared by its items).</param>
public sealed record DeliveryStory(
    string DestinationId,
    string Subscription,
    DeliveryStoryStatus Status,
    int Attempts,
    DateTimeOffset? NextAttemptAt,
    int? LastStatus,
    string? LastError,
    string? Reason,
    long? DeliveryId,
    DateTimeOffset? LastCallAt = null,
    long? CallId = null);

public sealed record RouterFilterStory(string DestinationId, string ReasonCode);
