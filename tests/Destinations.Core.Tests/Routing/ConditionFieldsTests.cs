using System.Text.Json.Nodes;
using Destinations.Core.Mapping;
using Destinations.Core.Routing;
using Destinations.Core.Segment;

namespace Destinations.Core.Tests.Routing;

/// <summary>A filter condition decides on the sparse copy of an event (<see cref="ConditionFields"/>) exactly as on the whole
/// event: every condition against every event, both ways.</summary>
public class ConditionFieldsTests
{
    static readonly string[] Conditions =
    [
        "type = \"track\" and event = \"Order Completed\"",
        "name = \"Home\" or userId = \"u1\"",
        "userId = null",
        "event != \"x\"",
        "properties.total > 100",
        "properties.total = 129.9",
        "properties.plan = null",
        "contains(context.page.url, \"staging.\")",
        "match(context.page.path, \"/pri*\")",
        "properties.products.0.name = \"Seat\"",
        "properties.products.1.name = null",
        "properties.address.city = \"Oslo\" and not properties.address = null",
        "traits.email = \"ada@example.com\" or context.traits.email = \"ada@example.com\"",
        "properties.flag = true",
        "properties.nested.deep.deeper = 1",
        "context.library.name = \"analytics.js\" and context.library = null",
        "properties.a.b = \"quoted \\\" key\"",
    ];

    static readonly string[] Events =
    [
        """{"type":"track","event":"Order Completed","userId":"u1","messageId":"m","properties":{"total":129.9,"products":[{"name":"Seat"}],"flag":true},"context":{"page":{"url":"https://staging.example.com/","path":"/pricing"},"library":{"name":"analytics.js"}}}""",
        """{"type":"page","name":"Home","anonymousId":"a","messageId":"m","properties":{"total":"150","address":{"city":"Oslo"},"nested":{"deep":"not an object"}}}""",
        """{"type":"identify","userId":"u2","messageId":"m","traits":{"email":"ada@example.com"},"context":{"traits":{"email":"b@example.com"},"page":null}}""",
        """{"type":"track","event":"x","userId":"u1","messageId":"m","properties":{"address":"Oslo","products":"none","nested":{"deep":{"deeper":1.0}},"a":{"b":"quoted \" key"}}}""",
        """{"type":"track","event":"E","userId":"u1","messageId":"m","properties":{"to\u0074al":200,"plan":null},"context":{"page":{"url":17}}}""",
        """{"type":"group","groupId":"g","userId":"u1","messageId":"m","traits":{},"context":{}}""",
    ];

    public static TheoryData<int> EventIndexes() => [.. Enumerable.Range(0, Events.Length)];

    [Theory]
    [MemberData(nameof(EventIndexes))]
    public void Every_condition_decides_alike_on_the_copy_and_on_the_whole_event(int index)
    {
        var conditions = Conditions.Select(Fql.Parse).ToList();
        var fields = ConditionFields.Of(conditions)!;
        var whole = (JsonObject)JsonNode.Parse(Events[index])!;
        // As at the ingress: the event held as its UTF-8 JSON (no DOM).
        var read = new SegmentEventReader().Read(JsonNode.Parse(Events[index]));
        Assert.True(read.IsValid, string.Join("; ", read.Errors));
        var copy = fields.Extract(read.Event!);
        foreach (var c in conditions)
            Assert.True(c.Matches(whole) == c.Matches(copy), $"'{c.Text}' on event {index}: whole {c.Matches(whole)}, copy {c.Matches(copy)} ({copy.ToJsonString()})");
    }

    [Fact]
    public void The_copy_holds_only_the_named_paths()
    {
        var fields = ConditionFields.Of([Fql.Parse("contains(context.page.url, \"x\") and properties.total > 1")])!;
        var copy = fields.Extract(new SegmentEventReader().Read(JsonNode.Parse(Events[0])).Event!);
        Assert.Equal("""{"properties":{"total":129.9},"context":{"page":{"url":"https://staging.example.com/"}}}""", copy.ToJsonString());
    }

    [Fact]
    public void Conditions_on_the_fields_the_ingress_read_need_no_JSON()
    {
        var fields = ConditionFields.Of([Fql.Parse("type = \"track\" and event = \"Order Completed\" or name = \"x\" or userId = \"u1\"")])!;
        var e = new SegmentEventReader().Read(JsonNode.Parse(Events[0])).Event!;
        Assert.Equal("""{"type":"track","event":"Order Completed","userId":"u1"}""", fields.Extract(e).ToJsonString());
    }

    [Fact]
    public void Fields_the_ingress_read_come_from_the_event_and_the_rest_from_its_JSON()
    {
        var fields = ConditionFields.Of([Fql.Parse("event = \"Test Event\" or contains(context.page.url, \"staging.\")"), Fql.Parse("type = \"track\"")])!;
        var e = new SegmentEventReader().Read(JsonNode.Parse(Events[0])).Event!;
        Assert.Equal("""{"event":"Order Completed","type":"track","context":{"page":{"url":"https://staging.example.com/"}}}""", fields.Extract(e).ToJsonString());
    }

    [Fact]
    public void The_read_stops_once_every_named_path_is_resolved()
    {
        var fields = ConditionFields.Of([Fql.Parse("contains(context.page.url, \"x\")")])!;
        // Not JSON after the page object: a reader that went on to the end would throw.
        var copy = fields.Extract("""{"context":{"page":{"url":"https://x.example/"},"ip":"1.2.3.4"},"properties":{"a":"""u8);
        Assert.Equal("""{"context":{"page":{"url":"https://x.example/"}}}""", copy.ToJsonString());

        // A path is also resolved when the object that would hold it ends without it.
        var absent = fields.Extract("""{"context":{"ip":"1.2.3.4"},"properties":{"a":"""u8);
        Assert.Equal("""{"context":{}}""", absent.ToJsonString());
    }
}
