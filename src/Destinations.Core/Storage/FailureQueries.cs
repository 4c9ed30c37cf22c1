namespace Destinations.Core.Storage;

/// <summary>
/// Failures of one instance grouped by partner status and reason: dead letters by their reason, and deliveries still retrying
/// by their error class. The latest row of each group is the sample the console shows (its request never has headers).
/// </summary>
/// <param name="State"><c>dead</c> or <c>retrying</c>.</param>
/// <param name="Reason">The dead letter's reason, or the retrying row's error class (e.g. <c>Retry: HTTP 503</c>).</param>
public sealed record FailureGroup(
    string State,
    int? Status,
    string? Reason,
    long Count,
    DateTimeOffset LatestAt,
    long LatestId,
    string MessageId,
    RequestDescription? LatestRequest,
    string? LatestResponse,
    string? LatestError);

/// <summary>Read queries of the operator console that the admin interface does not offer.</summary>
public interface IFailureQueries
{
    /// <summary>At most <paramref name="limit"/> groups, largest first.</summary>
    Task<IReadOnlyList<FailureGroup>> ListFailureGroupsAsync(string destinationId, int limit, CancellationToken ct);

    /// <summary>How many dead letters match (cursor and limit ignored): what "Replay all matching" would replay.</summary>
    Task<long> CountDeadLettersAsync(DeadLetterFilter filter, CancellationToken ct);
}
