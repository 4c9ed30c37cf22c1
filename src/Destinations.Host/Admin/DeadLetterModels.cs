using Destinations.Core.Storage;

namespace Destinations.Host.Admin;

/// <summary>The body of <c>POST /admin/dead-letters/replay</c>: ids, or destination, time range and/or the partner's last
/// status (the list's filters, so the same set), or <c>all: true</c>.</summary>
public sealed record ReplayRequest(IReadOnlyList<long>? Ids, string? Destination, DateTimeOffset? Since, DateTimeOffset? Until, bool? All,
    int? Status = null);

public sealed record ReplayAnswer(int Replayed);

/// <param name="Resumed">False when the instance was not paused and its breaker not open.</param>
public sealed record ResumeAnswer(string Destination, bool Resumed);

public sealed record DeadLetterPageView(IReadOnlyList<DeadLetterView> Items, long? NextCursor)
{
    public static DeadLetterPageView From(DeadLetterPage page) => new(page.Items.Select(DeadLetterView.From).ToList(), page.NextCursor);
}

/// <summary>A dead letter as the admin API shows it. The last request holds method, URL and body — never headers, so never a
/// credential; the event is the stored one (its <c>writeKey</c>, if a client sent one, was dropped at ingress).</summary>
public sealed record DeadLetterView(
    long Id,
    string Destination,
    string Subscription,
    string MessageId,
    string? Reason,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset DeadAt,
    int? LastStatus,
    string? LastError,
    string? ErrorClass,
    string? ResponseExcerpt,
    RequestDescription? LastRequest,
    int Replays,
    System.Text.Json.JsonElement Event)
{
    public static DeadLetterView From(DeadLetter d) => new(d.Id, d.DestinationId, d.Subscription, d.MessageId, d.Reason, d.Attempts,
        d.CreatedAt, d.DeadAt, d.LastStatus, d.LastError, d.ErrorClass, d.ResponseExcerpt, d.LastRequest, d.Replays,
        System.Text.Json.JsonDocument.Parse(d.EventBody).RootElement.Clone());
}
