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

    /// <summary>The most recent events of a user (userId, else anonymousId: the stored user key), newest first, at most
    /// <paramref name="limit"/>; each with its whole story.</summary>
    Task<IReadOnlyList<EventStory>> GetByUserAsync(string userKey, int limit, CancellationToken ct);
}

/// <summary>Per-minute outcome counts of an instance (the console's charts and 24 h counts), read from the store so every
/// replica draws the same chart.</summary>
public interface IOutcomeTimeline
{
    /// <summary>Minutes in [<paramref name="from"/>, <paramref name="to"/>) that have any outcome, oldest first (minutes without
    /// one are left out).</summary>
    Task<IReadOnlyList<OutcomeMinute>> GetTimelineAsync(string destinationId, DateTimeOffset from, DateTimeOffset to, CancellationToken ct);
}

/// <param name="Minute">The minute's start (UTC).</param>
/// <param name="Retried">Failed attempts that were scheduled again.</param>
/// <param name="Filtered">Mapper-time filters (D8); router-time filters are counted per day, not per minute.</param>
public sealed record OutcomeMinute(DateTimeOffset Minute, long Delivered, long Retried, long Dead, long Filtered, long Invalid)
{
    /// <summary>Failed attempts: retried or dead.</summary>
    public long Failed => Retried + Dead;
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
    IReadOnlyList<RouterFilterStory> RouterFiltered)
{
    /// <summary>The stored event JSON (null where the store kept no body, e.g. an event routed nowhere on SQLite's log).</summary>
    public string? Body { get; init; }

    /// <summary>userId, else anonymousId.</summary>
    public string? UserKey { get; init; }

    /// <summary>When the service accepted it where the store records that (SQLite's log); otherwise its stored receivedAt.</summary>
    public DateTimeOffset? AcceptedAt { get; init; }
}

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
/// <param name="LastCallAt">Delivered, with a call record: when the partner call that delivered it was answered.</param>
/// <param name="CallId">Delivered, with a call record: that call's record (one per call, shared by its items).</param>
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
    long? CallId = null)
{
    /// <summary>The request of the last failed attempt (method, URL, body; never headers).</summary>
    public RequestDescription? LastRequest { get; init; }

    /// <summary>The partner's answer to the last failed attempt (an excerpt).</summary>
    public string? LastResponse { get; init; }

    /// <summary>A row's first attempt and last change (its last attempt, or when it was filtered, replayed or settled).</summary>
    public DateTimeOffset? FirstAttemptAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>Each partner call that carried the event to the instance, oldest first (partner_calls, kept with the delivered
    /// retention); empty when none is recorded, where <see cref="Attempts"/> and the last attempt's details tell the story.</summary>
    public IReadOnlyList<CallStory> Calls { get; init; } = [];
}

/// <param name="Step">The plan step the call made (e.g. the partner endpoint's name).</param>
/// <param name="Status">The HTTP status (null: no answer, e.g. a timeout).</param>
public sealed record CallStory(long Id, DateTimeOffset At, string Step, int? Status)
{
    /// <summary>The request line (<see cref="PartnerCallRecord"/>: secrets stay placeholders); null for calls recorded before
    /// it was kept.</summary>
    public string? Method { get; init; }
    public string? Url { get; init; }

    /// <summary>An excerpt of the partner's answer, or why none came (<see cref="PartnerCallRecord.AnswerLength"/> characters).</summary>
    public string? Answer { get; init; }

    /// <summary>The request body of a failed call (bounded); null for a success, whose body is not kept.</summary>
    public string? Body { get; init; }

    public bool Succeeded => Status is >= 200 and < 300;
}

public sealed record RouterFilterStory(string DestinationId, string ReasonCode);
