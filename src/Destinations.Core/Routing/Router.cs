using Destinations.Core.Segment;

namespace Destinations.Core.Routing;

/// <summary>A delivery to create: one row per (event, destination instance, subscription) (D7).</summary>
public sealed record RoutedDelivery(string DestinationId, string Subscription);

/// <summary>A router-time filter decision: no delivery row, a per-instance counter by reason (D8).</summary>
public sealed record RouterFilter(string DestinationId, string Reason);

public sealed record RoutingDecision(IReadOnlyList<RoutedDelivery> Deliveries, IReadOnlyList<RouterFilter> Filtered);

/// <summary>Decides, per configured instance, whether an event goes there (README.md "How delivery works", step 1).</summary>
public sealed class Router(DestinationRegistry registry)
{
    public static class Reasons
    {
        public const string SourceNotLinked = "source not linked to this destination (D26)";
        public const string IntegrationsDisabled = "disabled by the Integrations object";
        public static string DeletionNotSupported(string integrationName) => $"deletion is not supported by {integrationName} (D4)";
    }

    public RoutingDecision Route(string sourceId, SegmentEvent e)
    {
        var deliveries = new List<RoutedDelivery>();
        var filtered = new List<RouterFilter>();
        foreach (var d in registry.Destinations)
        {
            if (!registry.IsLinked(d.Id, sourceId)) { filtered.Add(new(d.Id, Reasons.SourceNotLinked)); continue; }
            if (e.Type == CallTypes.Delete) { filtered.Add(new(d.Id, Reasons.DeletionNotSupported(d.IntegrationName))); continue; }
            if (!IntegrationsObject.IsEnabled(e.Integrations, d.Id, d.IntegrationName)) { filtered.Add(new(d.Id, Reasons.IntegrationsDisabled)); continue; }
            var match = d.Subscribe(e);
            if (!match.Matched) { filtered.Add(new(d.Id, match.Reason ?? "no subscription matches")); continue; }
            foreach (var s in match.Subscriptions) deliveries.Add(new(d.Id, s));
        }
        return new RoutingDecision(deliveries, filtered);
    }
}
