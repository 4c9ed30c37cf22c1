using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Destinations.Host.Admin;
using Serilog.Context;

namespace Destinations.Host.DryRun;

/// <summary>
/// The event tester: the delivery code path without the store. Router.Route decides per instance (D8), destination
/// filters included (the one that dropped the event is named); each routed subscription is mapped from the event as the
/// store would hand it to the dispatcher (<see cref="SegmentEvent.FromStored"/>), through <see cref="DestinationRegistry.Map"/>
/// so the fields the instance's property filters remove are listed;
/// with <c>send</c>, the plan's steps go to <see cref="IDestination.SendAsync"/> in order, stopping at the first failure like
/// a delivery attempt does (D11). D21: bypasses queue, dedupe, stats and dead letters — nothing is stored or counted.
/// </summary>
public sealed class DryRunner(Router router, DestinationRegistry registry, ILogger<DryRunner> logger)
{
    public async Task<DryRunAnswer> RunAsync(string sourceId, SegmentEvent e, bool send, CancellationToken ct)
    {
        var routing = router.Route(sourceId, e);
        var stored = e.ToJsonString();
        var results = new List<DryRunDestination>();
        foreach (var d in registry.Destinations)
        {
            using var scope = LogContext.PushProperty("Destination", d.Id);
            using var message = LogContext.PushProperty("MessageId", e.MessageId);
            var filter = routing.Filtered.FirstOrDefault(f => f.DestinationId == d.Id);
            var deliveries = new List<DryRunDelivery>();
            foreach (var routed in routing.Deliveries.Where(r => r.DestinationId == d.Id))
                deliveries.Add(await DeliveryAsync(d, SegmentEvent.FromStored(stored), routed.Subscription, send, ct));
            results.Add(new DryRunDestination(d.Id, d.IntegrationName, filter is null, filter?.Reason.Code, filter?.Reason.Sentence, filter?.Detail,
                AdminEndpoints.MaskedSettings(d), deliveries)
            {
                Filter = filter?.Filter is { } f ? new DryRunFilter(f.Index, f.Kind, f.Describe()) : null,
            });
        }
        logger.LogInformation("Dry-run of {MessageId} ({Type}) from source {SourceId}: {Routed} of {Destinations} instances routed, sent: {Sent}",
            e.MessageId, e.Type, sourceId, results.Count(r => r.Routed), results.Count, send);
        return new DryRunAnswer(sourceId, e.MessageId, e.Type, send, results);
    }

    async Task<DryRunDelivery> DeliveryAsync(IDestination d, SegmentEvent e, string subscription, bool send, CancellationToken ct)
    {
        // Through the registry, as delivery maps: the instance's property filters shape the event first.
        var (mapping, removed) = registry.Map(d, e, subscription);
        var requests = new List<DryRunRequest>();
        var failed = false;
        foreach (var request in mapping.Requests)
        {
            DryRunResult? result = null;
            if (send && failed) result = DryRunResult.Skipped();
            else if (send)
            {
                var attempt = await d.SendAsync(request, ct);
                result = DryRunResult.From(attempt);
                failed = !attempt.IsSuccess;
                logger.LogInformation("Dry-run send of step {Step} to {Destination}: {Outcome} {StatusCode}", request.Step, d.Id, attempt.Outcome, attempt.StatusCode);
            }
            requests.Add(new DryRunRequest(request.Step, request.Method, d.Describe(request).ToString(), request.Body?.DeepClone(), result)
            {
                Headers = request.Headers?.GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
                    .ToDictionary(g => g.Key, g => string.Join(", ", g.Select(h => h.Value)), StringComparer.OrdinalIgnoreCase),
            });
        }
        return new DryRunDelivery(subscription, mapping.Outcome.ToString(), mapping.Reason, mapping.Filter?.Sentence, mapping.Detail, requests)
        {
            Removed = removed.Count == 0 ? null : removed.Select(r => new DryRunRemovedField(r.Filter, r.Kind, r.Path)).ToList(),
        };
    }
}
