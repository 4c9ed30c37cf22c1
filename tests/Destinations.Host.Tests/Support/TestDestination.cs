using Destinations.Core.Delivery;
using Destinations.Core.Segment;
using Microsoft.Extensions.Configuration;

namespace Destinations.Host.Tests.Support;

/// <summary>A destination type "Test" accepting every call type, so routed events have somewhere to go.</summary>
public sealed class TestDestinationFactory : IDestinationFactory
{
    public string Type => "Test";
    public string IntegrationName => "Test Destination";
    public PartnerRateLimit? DefaultRateLimit => null;

    public DestinationBuildResult Create(string id, IConfigurationSection instanceSection, string keyPath) =>
        instanceSection["Settings:Fail"] == "true"
            ? DestinationBuildResult.Failed([$"{keyPath}.Settings.Fail: the test destination was told to fail"])
            : DestinationBuildResult.Ok(new TestDestination(id));

    sealed class TestDestination(string id) : IDestination
    {
        public string Id => id;
        public string IntegrationName => "Test Destination";
        public SubscriptionMatch Subscribe(SegmentEvent e) => SubscriptionMatch.Of(e.Type);
        public MappingResult Map(SegmentEvent e, string subscription) => MappingResult.Filtered(FilterReason.NoSubscriptionMatched, "the test destination sends nothing");
        public Task<AttemptResult> SendAsync(PartnerRequest request, CancellationToken ct) => throw new NotSupportedException();
        public Uri Describe(PartnerRequest request) => new("http://test.invalid/");
    }
}
