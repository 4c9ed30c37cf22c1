using Destinations.Core.Segment;

namespace Destinations.Core.Delivery;

/// <summary>
/// One configured destination instance (an entry of <c>Destinations</c> in configuration), ready to route, map and send.
/// A partner project implements this once; the router, dispatcher and dry-run use nothing else.
/// </summary>
public interface IDestination
{
    /// <summary>The instance's configured <c>Id</c> (also a key in the Integrations object, D9).</summary>
    string Id { get; }

    /// <summary>The destination's name in the Integrations object, e.g. <c>Salesmachine</c> (docs/ingress.md "Integrations object").</summary>
    string IntegrationName { get; }

    /// <summary>
    /// The subscriptions this event matches (D7): a classic destination has one per accepted call type (the call type itself);
    /// an Actions destination one per matching mapping. Empty = filtered at the router with <see cref="SubscriptionMatch.Reason"/>.
    /// </summary>
    SubscriptionMatch Subscribe(SegmentEvent e);

    /// <summary>Pure: the partner requests for this event and subscription, with the instance's current settings (D8, D11).</summary>
    MappingResult Map(SegmentEvent e, string subscription);

    /// <summary>Sends one request of a plan and classifies the answer. Never throws for partner or network trouble.</summary>
    Task<AttemptResult> SendAsync(PartnerRequest request, CancellationToken ct);

    /// <summary>The absolute URL a request goes to (for logs, dry-run and dead letters; holds no secret).</summary>
    Uri Describe(PartnerRequest request);
}

/// <summary>Which subscriptions of an instance an event matches; when none, why not (and what about the event, in
/// <see cref="Detail"/>, e.g. the call type that is not accepted).</summary>
public sealed record SubscriptionMatch(IReadOnlyList<string> Subscriptions, FilterReason? Reason, string? Detail = null)
{
    public static SubscriptionMatch Of(params string[] subscriptions) => new(subscriptions, null);
    public static SubscriptionMatch None(FilterReason reason, string? detail = null) => new([], reason, detail);
    public bool Matched => Subscriptions.Count > 0;
}
