using System.Text.Json.Nodes;
using Destinations.Core.Configuration;
using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Core.Segment;

namespace Destinations.Core.Tests.Routing;

/// <summary>The existing IntegrationsObject (docs/ingress.md "Integrations object", D9) and Router (D4, D8, D26), as the ingress relies on them.</summary>
public class RoutingTests
{
    static JsonObject? Integrations(string json) => JsonNode.Parse(json) as JsonObject;

    [Theory]
    [InlineData("{}", true)]
    [InlineData("""{"All":false}""", false)]
    [InlineData("""{"All":false,"Salesmachine":true}""", true)]
    [InlineData("""{"All":false,"Salesmachine":{"note":"options"}}""", true)]          // object = enabled
    [InlineData("""{"Salesmachine":false}""", false)]
    [InlineData("""{"salesmachine":false}""", true)]                                    // names are exact, case-sensitive
    [InlineData("""{"Salesmachine":false,"sm-prod":true}""", true)]                     // instance Id wins (D9)
    [InlineData("""{"Salesmachine":true,"sm-prod":false}""", false)]
    [InlineData("""{"All":false,"sm-prod":{}}""", true)]
    [InlineData("""{"Salesmachine":"no"}""", true)]                                     // not a Segment form: not listed
    public void Integrations_object(string json, bool enabled) =>
        Assert.Equal(enabled, IntegrationsObject.IsEnabled(Integrations(json), "sm-prod", "Salesmachine"));

    [Fact]
    public void No_integrations_object_means_enabled() =>
        Assert.True(IntegrationsObject.IsEnabled(null, "sm-prod", "Salesmachine"));

    static Router RouterFor(params (FakeDestination D, string[]? Sources)[] destinations) =>
        new(new DestinationRegistry(
            [new SourceOptions { Id = "web" }, new SourceOptions { Id = "app" }],
            destinations.Select(d => ((Core.Delivery.IDestination)d.D, (IReadOnlyList<string>?)d.Sources)).ToList(),
            []));

    static SegmentEvent Event(string json) => new((JsonObject)JsonNode.Parse(json)!);

    [Fact]
    public void Fixture_with_All_false_reaches_only_the_enabled_destinations()
    {
        var router = RouterFor(
            (new FakeDestination("sm", "Salesmachine", "track"), null),
            (new FakeDestination("um", "UserMotion (Actions)", "track"), null),
            (new FakeDestination("smc", "Selligent Marketing Cloud", "track"), null));
        var decision = router.Route("web", new SegmentEvent(Fixtures.Object("integrations-filtered.json")));
        Assert.Equal(["sm", "um"], decision.Deliveries.Select(d => d.DestinationId));
        Assert.Equal(new RouterFilter("smc", FilterReason.IntegrationsOff), Assert.Single(decision.Filtered));
    }

    [Fact]
    public void Delete_is_filtered_for_every_destination_D4()
    {
        var router = RouterFor((new FakeDestination("sm", "Salesmachine", "track", "delete"), null));
        var decision = router.Route("web", new SegmentEvent(Fixtures.Object("delete.json")));
        Assert.Empty(decision.Deliveries);
        Assert.Equal(new RouterFilter("sm", FilterReason.DeleteNotSupported, "Salesmachine"), Assert.Single(decision.Filtered));
    }

    [Fact]
    public void Source_link_D26()
    {
        var router = RouterFor(
            (new FakeDestination("all-sources", "Salesmachine", "track"), null),
            (new FakeDestination("app-only", "Salesmachine", "track"), ["app"]));
        var e = Event("""{"type":"track","event":"E","userId":"u","messageId":"m"}""");
        var fromWeb = router.Route("web", e);
        Assert.Equal(["all-sources"], fromWeb.Deliveries.Select(d => d.DestinationId));
        Assert.Equal(new RouterFilter("app-only", FilterReason.SourceNotLinked), Assert.Single(fromWeb.Filtered));
        Assert.Equal(["all-sources", "app-only"], router.Route("app", e).Deliveries.Select(d => d.DestinationId));
    }

    [Fact]
    public void Call_type_not_accepted_is_filtered_with_the_destination_reason()
    {
        var router = RouterFor((new FakeDestination("sm", "Salesmachine", "identify"), null));
        var decision = router.Route("web", Event("""{"type":"track","event":"E","userId":"u","messageId":"m"}"""));
        Assert.Empty(decision.Deliveries);
        Assert.Equal(new RouterFilter("sm", FilterReason.CallTypeNotAccepted, "track"), Assert.Single(decision.Filtered));
    }

    [Fact]
    public void A_delivery_per_subscription()
    {
        var router = RouterFor((new FakeDestination("sm", "Salesmachine", "track"), null));
        var d = Assert.Single(router.Route("web", Event("""{"type":"track","event":"E","userId":"u"}""")).Deliveries);
        Assert.Equal(new RoutedDelivery("sm", "track"), d);
    }
}
