using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Destinations.Core.Segment;

namespace Destinations.UserMotion.Tests;

/// <summary>
/// One runner for every <c>Fixtures/*.json</c>: optional custom mappings (the MappingsFile format), an event, and either the
/// router's filter reason or one expected delivery per matching mapping. Expected bodies follow partners/usermotion.md.
/// </summary>
public sealed class FixtureTests
{
    static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true };

    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(FixtureDir, "*.json").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(file));
        return data;
    }

    [Fact]
    public void There_are_fixtures_for_every_preset_and_for_custom_mappings()
    {
        var files = Directory.GetFiles(FixtureDir, "*.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!).ToList();
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
        var doc = JsonNode.Parse(File.ReadAllText(Path.Combine(FixtureDir, fixture)))!.AsObject();
        var destination = TestDestinations.Build(doc["mappings"]);
        var e = new SegmentEvent(doc["event"]!.AsObject());
        var snapshot = e.Json.DeepClone();

        var match = destination.Subscribe(e);
        JsonNode actual;
        if (!match.Matched) actual = new JsonObject { ["filtered"] = match.Reason };
        else
        {
            var deliveries = new JsonArray();
            foreach (var subscription in match.Subscriptions) deliveries.Add(ToJson(subscription, destination.Map(e, subscription)));
            actual = new JsonObject { ["deliveries"] = deliveries };
        }

        var expected = doc["expected"]!;
        Assert.True(JsonNode.DeepEquals(expected, actual),
            $"{fixture}: {doc["description"]}\n--- expected\n{expected.ToJsonString(Pretty)}\n--- actual\n{actual.ToJsonString(Pretty)}");
        // Key order is part of "equal to what Segment sends" (JavaScript object spread keeps it).
        Assert.Equal(expected.ToJsonString(), actual.ToJsonString());
        Assert.True(JsonNode.DeepEquals(snapshot, e.Json), $"{fixture}: mapping modified the event");
    }

    static JsonObject ToJson(string subscription, MappingResult result)
    {
        if (result.Outcome != MappingOutcome.Send)
            return new JsonObject { ["subscription"] = subscription, ["outcome"] = result.Outcome.ToString(), ["reason"] = result.Reason };
        var requests = new JsonArray();
        foreach (var r in result.Requests)
            requests.Add(new JsonObject { ["step"] = r.Step, ["method"] = r.Method, ["path"] = r.Path, ["body"] = r.Body?.DeepClone() });
        return new JsonObject { ["subscription"] = subscription, ["outcome"] = "Send", ["requests"] = requests };
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
