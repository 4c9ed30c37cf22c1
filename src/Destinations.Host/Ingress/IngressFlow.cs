using Destinations.Core.Configuration;
using Destinations.Core.Delivery;
using Destinations.Core.Diagnostics;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Destinations.Storage;
using Destinations.Host.OperatorConsole;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Destinations.Host.Ingress;

/// <summary>
/// The common tail of every ingress endpoint, once the body is read and the source known: reject what is invalid, route
/// what is valid (Router), store it durably (IEventStore, one group commit), then answer (D2). Nothing is acknowledged
/// before it is stored; storage trouble is a 503 with Retry-After (D1).
/// </summary>
public sealed class IngressFlow(Router router, IEventStore store, DestinationsMetrics metrics, ILogger<IngressFlow> logger,
    LiveFeed? live = null, TimeProvider? time = null)
{
    public const int RetryAfterSeconds = 5;

    public async Task<Results<SingleAcceptedResult, Ok<BatchAccepted>, ProblemHttpResult>> AcceptAsync(
        HttpContext http, SourceOptions source, PayloadReadResult payload, CancellationToken ct)
    {
        if (!payload.EnvelopeIsValid) return IngressProblems.Invalid(payload.EnvelopeErrors, payload.Shape == PayloadShape.Batch ? [] : null);

        // Hot path (every request): plain loops, no LINQ.
        var events = payload.Events;
        var valid = new List<EventReadResult>(events.Count);
        List<RejectedEvent>? rejectedList = null;
        foreach (var e in events)
        {
            if (e.IsValid) valid.Add(e);
            else (rejectedList ??= []).Add(new RejectedEvent(e.Index, e.MessageId, IngressProblems.Describe(e.Errors)));
        }
        IReadOnlyList<RejectedEvent> rejected = rejectedList ?? (IReadOnlyList<RejectedEvent>)[];
        if (valid.Count == 0)
            return IngressProblems.Invalid(events.SelectMany(e => e.Errors).ToList(), payload.Shape == PayloadShape.Batch ? rejectedList ?? [] : null);

        var incoming = new IncomingEvent[valid.Count];
        for (var i = 0; i < valid.Count; i++)
            incoming[i] = new IncomingEvent(source.Id, valid[i].Event!, router.Route(source.Id, valid[i].Event!));
        IReadOnlyList<AcceptStatus> statuses;
        try
        {
            statuses = await store.AcceptAsync(incoming, ct);
        }
        catch (StoreUnavailableException ex)
        {
            logger.LogWarning(ex, "Event store unavailable: answered 503 to source {SourceId} for {Count} events", source.Id, incoming.Length);
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return IngressProblems.StoreUnavailable();
        }

        var duplicates = 0;
        for (var i = 0; i < statuses.Count; i++)
            if (statuses[i] == AcceptStatus.Duplicate) duplicates++;
        CountAccepted(source.Id, incoming, statuses, duplicates);
        if (live is { HasWatchers: true }) PublishAccepted(source.Id, incoming, statuses);
        // Debug, not Information: a line per accepted request costs ~15% of the ingest throughput (docs/benchmarks.md);
        // rejections and store trouble stay at Warning, and the metrics count every accepted event.
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.LogDebug("Source {SourceId}: {Accepted} events accepted ({Duplicates} duplicates), {Rejected} rejected",
                source.Id, valid.Count, duplicates, rejected.Count);
            for (var i = 0; i < incoming.Length; i++)
                logger.LogDebug("Accepted {MessageId} ({Type}) from {SourceId}: {Status}, routed to {Deliveries} deliveries, {Filtered} instances filtered",
                    incoming[i].Event.MessageId, incoming[i].Event.Type, source.Id, statuses[i], incoming[i].Routing.Deliveries.Count, incoming[i].Routing.Filtered.Count);
        }

        if (payload.Shape == PayloadShape.Single)
        {
            var only = valid[0];
            return only.MessageIdGenerated ? new SingleAcceptedResult(new SingleAccepted(true, only.MessageId)) : SingleAcceptedResult.Success;
        }
        var generated = new List<GeneratedMessageId>();
        foreach (var e in valid)
            if (e.MessageIdGenerated) generated.Add(new GeneratedMessageId(e.Index, e.MessageId!));
        return TypedResults.Ok(new BatchAccepted(true, valid.Count, rejected, generated));
    }

    /// <summary>The console's live tail (only while a browser watches): each event as stored, and where it was routed.</summary>
    void PublishAccepted(string sourceId, IncomingEvent[] incoming, IReadOnlyList<AcceptStatus> statuses)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        for (var i = 0; i < incoming.Length; i++)
        {
            var e = incoming[i];
            var routed = e.Routing.Deliveries.Select(d => d.DestinationId).Distinct().ToList();
            var filtered = e.Routing.Filtered.Select(f => $"{f.DestinationId}: {f.Reason.Code}").ToList();
            var detail = statuses[i] == AcceptStatus.Duplicate ? "duplicate messageId: acknowledged, not stored again"
                : (routed.Count > 0 ? "routed to " + string.Join(", ", routed) : "routed nowhere")
                  + (filtered.Count > 0 ? "; filtered " + string.Join(", ", filtered) : "");
            live!.Publish(new LiveLine(statuses[i] == AcceptStatus.Duplicate ? "duplicate" : "accepted", now, sourceId, null, routed,
                e.Event.Type, e.Event.MessageId, e.Event.UserId ?? e.Event.AnonymousId, detail));
        }
    }

    [ThreadStatic] static List<(string Destination, FilterReason Reason, int Count)>? t_filtered;

    /// <summary>Accepted by status; router-time filters (D8) only for newly stored events, so a duplicate is not counted twice.
    /// Filters are added up per instance and reason first: a counter update is a look-up by its tags in the metrics SDK, and
    /// a batch's events are nearly always filtered alike, so a batch makes one update per pair instead of one per event.</summary>
    void CountAccepted(string sourceId, IReadOnlyList<IncomingEvent> incoming, IReadOnlyList<AcceptStatus> statuses, int duplicates)
    {
        if (statuses.Count - duplicates > 0) metrics.EventAccepted(sourceId, "stored", statuses.Count - duplicates);
        if (duplicates > 0) metrics.EventAccepted(sourceId, "duplicate", duplicates);
        var counts = t_filtered ??= [];
        counts.Clear();
        for (var i = 0; i < incoming.Count; i++)
        {
            if (statuses[i] != AcceptStatus.Stored) continue;
            var filtered = incoming[i].Routing.Filtered; // indexed: a foreach over the interface boxes its enumerator
            for (var f = 0; f < filtered.Count; f++)
            {
                var (destination, reason) = (filtered[f].DestinationId, filtered[f].Reason);
                var at = 0;
                while (at < counts.Count && !(counts[at].Reason == reason && string.Equals(counts[at].Destination, destination, StringComparison.Ordinal))) at++;
                if (at == counts.Count) counts.Add((destination, reason, 1));
                else counts[at] = (destination, reason, counts[at].Count + 1);
            }
        }
        foreach (var (destination, reason, count) in counts) metrics.EventFiltered(destination, reason, count);
        counts.Clear();
    }
}
