using System.Text.Json.Nodes;
using Destinations.Core.Mapping;

namespace Destinations.Webhook.Tests;

/// <summary>
/// Trigger equality with Segment: every trigger below is evaluated against every event by Segment's own subscription parser
/// (<c>@segment/destination-subscriptions</c> parseFql + validate, reference/triggers.cjs) and by ours
/// (<see cref="Fql.ParseTrigger"/>, D31); the answers must be the same. A trigger Segment cannot evaluate is a start-up error here.
/// </summary>
public sealed class TriggerEqualityTests
{
    static readonly string[] Events =
    [
        """{"type":"track","event":"Order Completed","userId":"u-1","anonymousId":"a-1","properties":{"total":129.9,"count":"12","seats":100,"flag":true,"off":false,"plan":"pro","nothing":null,"nested":{"a":"x"}},"context":{"page":{"url":"https://app.example.com/pricing"}}}""",
        """{"type":"identify","userId":"8412","traits":{"email":"a@example.com","vip":true,"age":42,"name":"Zoë"}}""",
        """{"type":"page","name":"Pricing","anonymousId":"a-2","properties":{"url":"https://x.example/y","total":"150"}}""",
        """{"type":"group","groupId":"g-1","userId":"u-2","traits":{"plan":"Enterprise","vip":"true"}}""",
        """{"type":"track","event":"Signed Up","anonymousId":"a-3","properties":{}}""",
        """{"type":"track","event":"5","userId":"true","properties":{"seats":"100","total":99}}""",
        """{"type":"track","event":"x","properties":{"total":0,"first_name":"x","my-key":"x","a b":"x","n":1.5},"traits":{"x":""}}""",
        """{"type":"track","event":"'Order Completed'","userId":"'u1'","properties":{"total":1,"q":"'abc'","a":{"b":"nested"},"a.b":"flat","half":0.5}}""",
    ];

    public static readonly string[] Triggers =
    [
        "type = \"track\"", "type != \"track\"", "event = \"Order Completed\"", "event != \"Order Completed\"", "event = \"order completed\"",
        "event = 5", "name = \"Pricing\"", "name != null", "name = null", "userId = null", "userId != null", "userId = \"8412\"",
        "userId = true", "properties.total > 100", "properties.total <= 129.9", "properties.total < \"200\"", "properties.total >= 99",
        "properties.count = 12", "properties.count = \"12\"", "properties.seats = 100", "properties.seats = \"100\"",
        "properties.seats != 100", "properties.seats != \"100\"", "properties.flag = true", "properties.off = false",
        "properties.flag = false", "properties.plan != null", "properties.nothing = null", "properties.missing = null",
        "properties.missing != \"x\"", "properties.nested.a = \"x\"", "traits.vip = true", "traits.age >= 42", "traits.age > \"41\"",
        "traits.email = \"a@example.com\"", "traits.name = \"Zoë\"", "context.page.url = \"https://app.example.com/pricing\"",
        "contains(event, \"Order\")", "contains(properties.plan, \"ro\")", "!contains(event, \"Order\")", "contains(properties.seats, \"1\")",
        "contains(userId, \"84\")", "match(event, \"Order*\")", "match(event, \"*Completed\")", "match(name, \"Pri*\")",
        "!match(event, \"Order*\")", "match(userId, \"84*\")", "match(context.page.url, \"*pricing\")", "match(event, \"Order Completed\")",
        "type = \"track\" and event = \"Order Completed\"", "type = \"track\" or type = \"page\"",
        "type = \"identify\" or type = \"group\" and userId != null", "type = \"track\" and event = \"Signed Up\" or type = \"page\"",
        "(type = \"track\" and properties.total > 100) or (type = \"identify\" and traits.vip = true)",
        "(type = \"track\" or type = \"page\") and userId != null", "type = \"group\" and (traits.plan = \"Enterprise\" or traits.vip = true)",
        "properties.total > -1", "properties.first_name = \"x\"", "properties.my-key = \"x\"", "properties.a\\ b = \"x\"",
        "properties.n >= 1.5", "traits.x = \"\"",
        // Single-quoted strings keep their quotes in Segment's parser; numbers end at the first letter (1e3 is 1); an escaped dot
        // still separates keys.
        "event = 'Order Completed'", "type = 'track'", "userId = 'u1'", "properties.q = 'abc'", "properties.q != 'abc'",
        "contains(event, 'Order')", "match(event, 'Order*')", "match(event, 'XCompleted')", "!match(event, 'XCompleted')",
        "properties.total = 1e3", "properties.total > 1e2", "properties.total = +1", "properties.total = -0", "event = 5e3",
        "event = 5.0", "properties.total != -", "properties.half = 0.5", "properties.a\\.b = \"nested\"", "properties.a\\.b = \"flat\"",
        "type = \"track\" and properties.total >= 1e2", "properties.total = 1and type = \"track\"", "type='track' or userId='u1'",
        // contains() and match() take String() of a number or a bare name as their text.
        "contains(event, 5)", "contains(properties.plan, pro)", "contains(userId, true)", "match(event, 5)", "match(event, xCompleted)",
        "contains(event,\"Order\")",
    ];

    public static TheoryData<string> All() => new(Triggers);

    static readonly Lazy<JsonArray> Reference = new(() => SegmentReference.Run("triggers.cjs",
        new JsonArray(Triggers.SelectMany(t => Events.Select(e => (JsonNode?)new JsonObject { ["trigger"] = t, ["event"] = JsonNode.Parse(e) })).ToArray())));

    [Theory]
    [MemberData(nameof(All))]
    public void Our_trigger_matches_the_events_Segments_parser_matches(string trigger)
    {
        var i = Array.IndexOf(Triggers, trigger) * Events.Length;
        var ours = Fql.ParseTrigger(trigger);
        var expected = Events.Select((_, j) => Reference.Value[i + j]!.AsObject()).ToList();
        Assert.All(expected, r => Assert.True(r["error"] is null, $"Segment could not evaluate {trigger}: {r["error"]}"));
        var theirs = expected.Select(r => (bool)r["matched"]!).ToArray();
        var mine = Events.Select(e => ours.Matches(JsonNode.Parse(e)!.AsObject())).ToArray();
        Assert.True(theirs.SequenceEqual(mine), $"{trigger}\nSegment: {string.Join(", ", theirs)}\nours:    {string.Join(", ", mine)}");
    }

    [Fact]
    public void The_events_tell_most_triggers_apart()
    {
        // A trigger that matches every event or none proves little about its operator; most here must split the events.
        var decisive = Triggers.Count(t => Events.Select(e => Fql.ParseTrigger(t).Matches(JsonNode.Parse(e)!.AsObject())).Distinct().Count() == 2);
        Assert.True(decisive * 5 >= Triggers.Length * 4, $"only {decisive} of {Triggers.Length} triggers tell the events apart");
    }

    [Theory]
    [InlineData("contains(type, \"tr\")")]
    [InlineData("properties.total>5")]
    [InlineData("properties.total = 5.")]
    [InlineData("properties.total = 1.2.3")]
    [InlineData("properties.total = 1e+3")]
    [InlineData("properties.$x = \"x\"")]
    [InlineData("type = \"track\" && event = \"x\"")]
    [InlineData("(type = \"track\"")]
    [InlineData("event = 'Order")]
    [InlineData("name!=null")]
    public void A_trigger_Segment_cannot_evaluate_is_refused_at_start(string trigger)
    {
        var segment = SegmentReference.Run("triggers.cjs", [new JsonObject { ["trigger"] = trigger, ["event"] = JsonNode.Parse(Events[0]) }]);
        Assert.NotNull(segment[0]!["error"]);
        Assert.Throws<FqlSyntaxException>(() => Fql.ParseTrigger(trigger));
    }

    [Theory]
    [InlineData("!(type = \"track\")")]
    [InlineData("not type = \"track\"")]
    public void Negation_is_ours_Segments_parser_skips_it_D20(string trigger)
    {
        // Recorded so the difference stays visible: Segment's parser drops the "!" / "not" and matches the tracks.
        var segment = SegmentReference.Run("triggers.cjs",
            new JsonArray(Events.Select(e => (JsonNode?)new JsonObject { ["trigger"] = trigger, ["event"] = JsonNode.Parse(e) }).ToArray()));
        var tracks = Events.Select(e => (string?)JsonNode.Parse(e)!["type"] == "track").ToArray();
        Assert.Equal(tracks, segment.Select(r => (bool)r!["matched"]!).ToArray());
        Assert.Equal(tracks.Select(t => !t).ToArray(), Events.Select(e => Fql.ParseTrigger(trigger).Matches(JsonNode.Parse(e)!.AsObject())).ToArray());
    }

    [Theory]
    [InlineData("anonymousId = \"a-1\"", new[] { true, false, false, false, false, false, false, false })]
    [InlineData("anonymousId != null", new[] { true, false, true, false, true, false, false, false })]
    [InlineData("groupId = \"g-1\"", new[] { false, false, false, true, false, false, false, false })]
    [InlineData("match(anonymousId, \"a-*\") and groupId = null", new[] { true, false, true, false, true, false, false, false })]
    public void Beyond_Segment_anonymousId_and_groupId_are_fields_like_userId(string trigger, bool[] expected) =>
        Assert.Equal(expected, Events.Select(e => Fql.ParseTrigger(trigger).Matches(JsonNode.Parse(e)!.AsObject())).ToArray());
}
