using Destinations.Core.Routing;
using Destinations.Host.Ingress;
using Destinations.Host.OpenApi;
using Destinations.Core.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Destinations.Host.Admin;

/// <summary>
/// Dead letters and replay, and resuming a held instance (D11–D13 in docs/decisions.md; admin key, D21). The store does the work
/// (<see cref="IDeliveryAdmin"/>), so these answers are right across replicas.
/// </summary>
public static class DeadLetterEndpoints
{
    public static RouteGroupBuilder MapDeadLetters(this RouteGroupBuilder admin)
    {
        admin.MapGet("/dead-letters", List)
            .WithSummary("Dead letters, oldest first, filtered by destination, time of death (since inclusive, until exclusive) and partner status; paged by cursor")
            .WithMetadata(DeadLetterExamples.Page);
        admin.MapPost("/dead-letters/replay", Replay)
            .WithSummary("Replays dead letters by ids, by destination, time range and/or partner status (the list's filters), or all (all=true): each maps afresh with the current settings")
            .WithMetadata(DeadLetterExamples.ReplayRequests, DeadLetterExamples.Replayed);
        admin.MapPost("/destinations/{id}/resume", Resume)
            .WithSummary("Ends a pause (after a 401/403) or an open circuit breaker now; the held deliveries go out again")
            .WithMetadata(DeadLetterExamples.Resumed);
        return admin;
    }

    static async Task<Results<Ok<DeadLetterPageView>, ProblemHttpResult>> List(
        IDeliveryAdmin store, DestinationRegistry registry, CancellationToken ct,
        string? destination = null, DateTimeOffset? since = null, DateTimeOffset? until = null, int? status = null,
        int? limit = null, long? cursor = null)
    {
        if (limit is < 1 or > DeadLetterFilter.MaxLimit)
            return IngressProblems.Field("limit", $"limit must be between 1 and {DeadLetterFilter.MaxLimit}");
        if (since is { } s && until is { } u && u <= s)
            return IngressProblems.Field("until", "until must be later than since");
        var page = await store.ListDeadLettersAsync(
            new DeadLetterFilter(destination, since, until, status, limit ?? 100, cursor), ct);
        return TypedResults.Ok(DeadLetterPageView.From(page));
    }

    static async Task<Results<Ok<ReplayAnswer>, ProblemHttpResult>> Replay(
        ReplayRequest? request, IDeliveryAdmin store, DestinationRegistry registry, ILogger<ReplayRequest> logger, CancellationToken ct)
    {
        if (request is null)
            return IngressProblems.Field("body", "send a JSON body: {\"ids\":[…]}, {\"destination\":…,\"since\":…,\"until\":…,\"status\":…} or {\"all\":true}");
        var hasIds = request.Ids is { Count: > 0 };
        var hasRange = request.Destination is not null || request.Since is not null || request.Until is not null || request.Status is not null;
        if (!hasIds && !hasRange && request.All != true)
            // Replaying everything must be asked for explicitly: an empty body is a mistake, not "all".
            return IngressProblems.Field("all", "name what to replay: ids, destination, since/until and/or status, or all: true");
        if (hasIds && (hasRange || request.All == true))
            return IngressProblems.Field("ids", "ids cannot be combined with destination, since, until, status or all");
        if (request.Destination is { } d && registry.Find(d) is null)
            return IngressProblems.Field("destination", $"no destination instance '{d}' is configured");
        if (request.Since is { } s && request.Until is { } u && u <= s)
            return IngressProblems.Field("until", "until must be later than since");

        var selection = hasIds ? new ReplaySelection(Ids: request.Ids)
            : hasRange ? new ReplaySelection(DestinationId: request.Destination, Since: request.Since, Until: request.Until, Status: request.Status)
            : ReplaySelection.All;
        var count = await store.ReplayAsync(selection, ct);
        logger.LogInformation("Replayed {Count} dead letters (destination {Destination}, ids {Ids}, since {Since}, until {Until}, status {Status}, all {All})",
            count, request.Destination, request.Ids?.Count ?? 0, request.Since, request.Until, request.Status, request.All == true);
        return TypedResults.Ok(new ReplayAnswer(count));
    }

    static async Task<Results<Ok<ResumeAnswer>, ProblemHttpResult>> Resume(
        string id, IDeliveryAdmin store, DestinationRegistry registry, ILogger<ResumeAnswer> logger, CancellationToken ct)
    {
        if (registry.Find(id) is null) return IngressProblems.NotFound($"no destination instance '{id}' is configured");
        var resumed = await store.ResumeAsync(id, ct);
        logger.LogInformation("Operator resume of {Destination}: {Result}", id, resumed ? "resumed" : "was not held");
        return TypedResults.Ok(new ResumeAnswer(id, resumed));
    }
}
