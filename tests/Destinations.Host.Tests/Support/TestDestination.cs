using Destinations.Core.Delivery;
using Destinations.Testing;

namespace Destinations.Host.Tests.Support;

/// <summary>
/// The host tests' destination type "Test": the shared <see cref="FakeDestination"/>, accepting every call type and mapping
/// every event to a filter, so routed events have somewhere to go and nothing is sent anywhere.
/// </summary>
public static class TestDestination
{
    public static FakeDestinationFactory Factory() => new("Test", integrationName: "Test Destination",
        configure: d => d.Mapping = (_, _) => MappingResult.Filtered(FilterReason.NoSubscriptionMatched, "the test destination sends nothing"));
}
