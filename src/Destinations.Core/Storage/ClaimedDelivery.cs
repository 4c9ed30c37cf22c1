namespace Destinations.Core.Storage;

/// <summary>A delivery leased to one worker, with what it needs to process it.</summary>
/// <param name="Plan">The JSON plan stored at the first attempt (D11); null before it.</param>
/// <param name="StepsDone">How many steps of the plan have succeeded (D11).</param>
/// <param name="Attempts">Sending attempts made so far.</param>
public sealed record ClaimedDelivery(
    long Id,
    long EventSeq,
    string DestinationId,
    string Subscription,
    string MessageId,
    string EventBody,
    string? Plan,
    int StepsDone,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FirstAttemptAt,
    string LeaseOwner,
    DateTimeOffset LeaseUntil)
{
    /// <summary>The canary of a held instance (D12): its outcome decides whether the instance resumes.</summary>
    public bool IsProbe { get; init; }

    /// <summary>Time spent held by a paused instance; the D13 age clock does not count it.</summary>
    public TimeSpan HeldFor { get; init; }

    /// <summary>userId, else anonymousId (D16); null when the event has neither.</summary>
    public string? UserKey { get; init; }
}
