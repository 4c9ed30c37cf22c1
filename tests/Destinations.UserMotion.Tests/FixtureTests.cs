using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Destinations.Core.Segment;

namespace Destinations.UserMotion.Tests;

/// <summary>
/// One runner for every <c>Fixtures/*.json</c>: optional custom mappings (the MappingsFile format), an event, and either the
/// router's filter reason or one expected delivery per matching mapping. Expected bodies follow docs/partners/usermotion.md "API".
/// </summary>
public sealed class FixtureTests
{
    public static TheoryData<string> Fixtures() => MappingFixtures.Names();

    [Fact]
    public void There_are_fixtures_for_every_preset_and_for_custom_mappings()
    {
        var files = MappingFixtures.LoadAll();
        var subscriptions = files.SelectMany(f => f["expected"]!["deliveries"]?.AsArray() ?? [])
            .Select(d => (string)d!["subscription"]!).ToHashSet();
        Assert.Superset(new HashSet<string> { "Identify User", "Identify Group", "Track Analytics Event" }, subscriptions);
        Assert.True(files.Count(f => f["mappings"] is not null) >= 5);
        Assert.True(files.Count >= 28);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Routes_and_maps_as_the_fixture_expects(string fixture)
    {
        var doc = MappingFixtures.Load(fixture);
        var destination = TestDestinations.Build(doc["mappings"]);
        var e = new SegmentEvent(doc["event"]!.AsObject());
        var snapshot = e.Json.DeepClone();

        var match = destination.Subscribe(e);
        JsonNode actual;
        if (!match.Matched)
        {
            actual = new JsonObject { ["filtered"] = match.Reason?.Code };
            if (match.Detail is not null) actual["detail"] = match.Detail;
        }
        else
        {
            var deliveries = new JsonArray();
            foreach (var subscription in match.Subscriptions) deliveries.Add(MappingFixtures.ToJson(destination.Map(e, subscription), subscription));
            actual = new JsonObject { ["deliveries"] = deliveries };
        }

        MappingFixtures.AssertExpected(fixture, doc, actual);
        // Key order is part of "equal to what Segment sends" (JavaScript object spread keeps it).
        Assert.Equal(doc["expected"]!.ToJsonString(), actual.ToJsonString());
        MappingFixtures.AssertUntouched(fixture, snapshot, e);
    }
}

static class TestDestinations
{
    public static UserMotionDestination Build(JsonNode? mappings, UserMotionSettings? settings = null)
    {
        IReadOnlyList<ActionMapping> list = UserMotionActions.Presets();
        if (mappings is not null)
        {
            var parsed = ActionMappingsFile.Parse(mappings.DeepClone(), "fixture.mappings", UserMotionActions.ByKey, UserMotionApi.MaxMappings);
            Assert.Empty(parsed.Errors);
            list = parsed.Mappings!;
        }
        return new UserMotionDestination("um", settings ?? new UserMotionSettings { ApiKey = "fixture-key" }, list, null, () => null!);
    }
}
