using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Core.Tests.Routing;

/// <summary>A destination that accepts the call types it is given; mapping and sending are not used by the router.</summary>
sealed class FakeDestination(string id, string integrationName, params string[] callTypes) : IDestination
{
    public string Id => id;
    public string IntegrationName => integrationName;

    public SubscriptionMatch Subscribe(SegmentEvent e) =>
        callTypes.Contains(e.Type) ? SubscriptionMatch.Of(e.Type) : SubscriptionMatch.None(FilterReason.CallTypeNotAccepted, e.Type);

    public MappingResult Map(SegmentEvent e, string subscription) => throw new NotSupportedException();
    public Task<AttemptResult> SendAsync(PartnerRequest request, CancellationToken ct) => throw new NotSupportedException();
    public Uri Describe(PartnerRequest request) => throw new NotSupportedException();
}
