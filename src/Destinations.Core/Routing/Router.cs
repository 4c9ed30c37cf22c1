using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Core.Routing;

/// <summary>A delivery to create: one row per (event, destination instance, subscription) (D7).</summary>
public sealed record RoutedDelivery(string DestinationId, string Subscription);

/// <summary>A router-time filter decision: no delivery row, a per-instance counter by the reason's code (D8 in
/// docs/decisions.md). <paramref name="Detail"/> says what about this event (e.g. the call type); it is shown, not counted.
/// <paramref name="Filter"/> is the instance's destination filter that dropped the event, when one did.</summary>
public sealed record RouterFilter(string DestinationId, FilterReason Reason, string? Detail = null, DestinationFilter? Filter = null);

public sealed record RoutingDecision(IReadOnlyList<RoutedDelivery> Deliveries, IReadOnlyList<RouterFilter> Filtered);

/// <summary>Decides, per configured instance, whether an event goes there (README.md "How delivery works", step 1).</summary>
public sealed class Router(DestinationRegistry registry)
{
    /// <summary>Each instance's "source not linked" decision, made once: it says nothing about the event, and the records
    /// are immutable, so every event routed past an instance shares it.</summary>
    readonly RouterFilter[] _notLinked = [.. registry.Destinations.Select(d => new RouterFilter(d.Id, FilterReason.SourceNotLinked))];

    public RoutingDecision Route(string sourceId, SegmentEvent e)
    {
        // Hot path (every accepted event): the lists are made when something goes in them, and the destinations are walked
        // by index (a foreach over the interface would box its enumerator).
        List<RoutedDelivery>? deliveries = null;
        List<RouterFilter>? filtered = null;
        var destinations = registry.Destinations;
        for (var i = 0; i < destinations.Count; i++)
        {
            var d = destinations[i];
            // D26: a destination hears only the sources linked to it.
            if (!registry.IsLinked(d.Id, sourceId)) { (filtered ??= []).Add(_notLinked[i]); continue; }
            // D4: none of the partners has a deletion call.
            if (e.Type == CallTypes.Delete) { (filtered ??= []).Add(new(d.Id, FilterReason.DeleteNotSupported, d.IntegrationName)); continue; }
            if (!IntegrationsObject.IsEnabled(e.Integrations, d.Id, d.IntegrationName)) { (filtered ??= []).Add(new(d.Id, FilterReason.IntegrationsOff)); continue; }
            // Destination filters act before any trigger, as Segment applies them before an Actions destination's subscriptions.
            var filters = registry.FiltersOf(d.Id);
            if (filters.EventFilters.Count > 0 && filters.Dropping(e) is { } dropping)
            {
                (filtered ??= []).Add(new(d.Id, InstanceFilters.ReasonOf(dropping), dropping.ToString(), dropping));
                continue;
            }
            var match = d.Subscribe(e);
            if (!match.Matched) { (filtered ??= []).Add(new(d.Id, match.Reason ?? FilterReason.NoSubscriptionMatched, match.Detail)); continue; }
            foreach (var s in match.Subscriptions) (deliveries ??= []).Add(new(d.Id, s));
        }
        return new RoutingDecision(deliveries ?? (IReadOnlyList<RoutedDelivery>)[], filtered ?? (IReadOnlyList<RouterFilter>)[]);
    }
}
