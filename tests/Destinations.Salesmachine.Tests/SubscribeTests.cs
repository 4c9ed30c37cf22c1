using Destinations.Core.Delivery;
using Destinations.Core.Segment;
using Destinations.Salesmachine;

namespace Destinations.Salesmachine.Tests;

public sealed class SubscribeTests
{
    static readonly SalesmachineDestination Destination = new("sm-main",
        new SalesmachineSettings { ApiToken = "t", ApiSecret = "s" }, () => throw new InvalidOperationException("no sending here"));

    [Theory]
    [InlineData(CallTypes.Identify)]
    [InlineData(CallTypes.Track)]
    [InlineData(CallTypes.Page)]
    [InlineData(CallTypes.Group)]
    [InlineData(CallTypes.Alias)]
    public void Accepted_call_types_have_one_subscription_named_after_the_type(string type)
    {
        var match = Destination.Subscribe(TestEvents.OfType(type));
        Assert.True(match.Matched);
        Assert.Equal([type], match.Subscriptions);
        Assert.Null(match.Reason);
    }

    [Fact]
    public void Screen_is_not_accepted()
    {
        var match = Destination.Subscribe(TestEvents.OfType(CallTypes.Screen));
        Assert.False(match.Matched);
        Assert.Equal((FilterReason.CallTypeNotAccepted, "screen"), (match.Reason, match.Detail));
    }

    [Fact]
    public void Delete_is_not_supported_D4()
    {
        var match = Destination.Subscribe(TestEvents.OfType(CallTypes.Delete));
        Assert.False(match.Matched);
        Assert.Equal((FilterReason.DeleteNotSupported, "Salesmachine"), (match.Reason, match.Detail));
    }

    [Fact]
    public void Unknown_type_is_not_accepted()
    {
        var match = Destination.Subscribe(TestEvents.OfType("bogus"));
        Assert.Equal((FilterReason.CallTypeNotAccepted, "bogus"), (match.Reason, match.Detail));
    }

    [Fact]
    public void Map_uses_the_mapper_for_the_matching_subscription()
    {
        var result = Destination.Map(TestEvents.FromFixture("group-with-userid.json"), CallTypes.Group);
        Assert.Equal(MappingOutcome.Send, result.Outcome);
        Assert.Equal(["account", "contact-link"], result.Requests.Select(r => r.Step));
    }

    [Fact]
    public void Map_with_a_foreign_subscription_is_invalid()
    {
        var result = Destination.Map(TestEvents.OfType(CallTypes.Track), CallTypes.Identify);
        Assert.Equal(MappingOutcome.Invalid, result.Outcome);
        Assert.Equal("subscription 'identify' does not match a track event for Salesmachine", result.Reason);
    }

    [Fact]
    public void Identity_and_describe()
    {
        Assert.Equal("sm-main", Destination.Id);
        Assert.Equal("Salesmachine", Destination.IntegrationName);
        Assert.Equal(new Uri("https://api.salesmachine.io/v1/track/event"),
            Destination.Describe(new PartnerRequest("event", "POST", "/v1/track/event", null)));
        // A shared call's record names where the batch went (D15), not its first item's endpoint.
        Assert.Equal(new Uri("https://api.salesmachine.io/v1/batch"),
            ((IBatchingDestination)Destination).DescribeBatch([new PartnerRequest("contact", "POST", "/v1/contact", null)]));
    }
}
