namespace Destinations.Core.Storage;

/// <summary>A delivery that was given up (D12 final 4xx, D13 too old, D12 held past PausedMaxAge, instance gone).</summary>
/// <param name="EventBody">The stored event, whole: a replay maps it afresh (D11).</param>
/// <param name="ErrorClass">e.g. <c>Final: HTTP 400</c>, <c>Retry: timeout</c>, <c>AuthFailure: HTTP 401</c>.</param>
public sealed record DeadLetter(
    long Id,
    string DestinationId,
    string Subscription,
    string MessageId,
    long EventSeq,
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
    string EventBody);

/// <summary>Which dead letters to list. All filters are optional; <paramref name="Since"/>/<paramref name="Until"/> apply to the
/// time the delivery died (inclusive, exclusive). Paging: pass the previous page's <see cref="DeadLetterPage.NextCursor"/>.</summary>
public sealed record DeadLetterFilter(
    string? DestinationId = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    int? Status = null,
    int Limit = 100,
    long? Cursor = null)
{
    public const int MaxLimit = 1000;
}

/// <param name="NextCursor">Pass as <see cref="DeadLetterFilter.Cursor"/> for the next page; null on the last page.</param>
public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, long? NextCursor);

/// <summary>
/// Which dead letters to replay: by <paramref name="Ids"/>, or by destination, time range (the time it died) and/or the
/// partner's last status (the same filter as <see cref="DeadLetterFilter"/>, so a list and its replay select the same set), or
/// all (every field null). Replaying resets the delivery to pending with a fresh plan (D11: a replay maps afresh with the current
/// settings), zero attempts and a new age clock (D13).
/// </summary>
public sealed record ReplaySelection(
    IReadOnlyList<long>? Ids = null,
    string? DestinationId = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    int? Status = null)
{
    public static ReplaySelection All { get; } = new();
    public static ReplaySelection ByIds(params long[] ids) => new(Ids: ids);
}
