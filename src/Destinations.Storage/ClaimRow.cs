namespace Destinations.Storage;

/// <summary>A claimed delivery as both stores' claim statements select it (times as Unix milliseconds in either store).</summary>
sealed class ClaimRow
{
    public long Id { get; set; }
    public long EventSeq { get; set; }
    public string DestinationId { get; set; } = "";
    public string Subscription { get; set; } = "";
    public string MessageId { get; set; } = "";
    public string EventBody { get; set; } = "";
    public string? Plan { get; set; }
    public long StepsDone { get; set; }
    public long Attempts { get; set; }
    public long CreatedAt { get; set; }
    public long? FirstAttemptAt { get; set; }
    public long HeldMs { get; set; }
    public string? UserKey { get; set; }
    public long NextAttemptAt { get; set; }

    public ClaimedDelivery ToClaimed(string owner, long untilMs) =>
        new(Id, EventSeq, DestinationId, Subscription, MessageId, EventBody, Plan, (int)StepsDone, (int)Attempts,
            DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), FirstAttemptAt is { } f ? DateTimeOffset.FromUnixTimeMilliseconds(f) : null,
            owner, DateTimeOffset.FromUnixTimeMilliseconds(untilMs))
        {
            HeldFor = TimeSpan.FromMilliseconds(HeldMs),
            UserKey = UserKey,
        };
}
