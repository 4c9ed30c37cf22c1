using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Destinations.Core.Segment;

namespace Destinations.UserMotion.Tests;

/// <summary>
/// The dispatcher maps an event as the store holds it (<see cref="SegmentEvent.FromStored"/>). Whatever the mapping reads it
/// with, every request (step, method, URL, body as the client writes it) must be the bytes mapping through the event's DOM
/// wrote: <c>MappedBytes/expected.txt</c> holds what the DOM mapping wrote for every core and shared Segment fixture, this
/// project's fixtures and the cases below, with every mapping of the presets, of each fixture's custom mappings and of the
/// mappings below (each mapping applied to every event, whatever its trigger).
/// </summary>
public sealed class StoredEventMappingTests
{
    static readonly (string Name, string Stored)[] Cases =
    [
        ("pretty-unicode-identify", """
            { "type" : "identify", "userId": "u1", "messageId": "m1",
              "traits": { "name" : "Zoë <b>&</b> 'x'+y", "emoji": "\ud83d\ude00", "n": 1.50, "e": 1E+3, "a": [ 1, {"b" : null} ], "email" : "z@example.com" },
              "context": { "bio": "line\u2028two\n\t\"q\" \\ \u0001" } }
            """),
        ("escaped-names-identify", """{"type":"identify","userId":"u1","messageId":"m2","tr\u0061its":{"em\u0061il":"a@example.com","x":"a\"b\\c\n"},"anonymousId":"an\u00e9"}"""),
        ("email-number-identify", """{"type":"identify","userId":"u1","messageId":"m3","traits":{"a":1,"email":5,"b":2}}"""),
        ("email-other-text-identify", """{"type":"identify","userId":"u1","messageId":"m4","traits":{"email":"x@example.com"},"email":"top@example.com"}"""),
        ("email-escaped-identify", """{"type":"identify","userId":"u1","messageId":"m5","traits":{"email":"a\u0040example.com","z":true}}"""),
        ("email-empty-identify", """{"type":"identify","userId":"u1","messageId":"m6","traits":{"email":""},"email":"top@example.com"}"""),
        ("email-object-identify", """{"type":"identify","userId":"u1","messageId":"m7","traits":{"email":{"v":1}}}"""),
        ("traits-array-identify", """{"type":"identify","userId":"u1","messageId":"m8","traits":["email"],"email":"top@example.com"}"""),
        ("spaced-identify", """ { "type" : "identify" , "userId" : "u1" , "messageId" : "m9" , "traits" : { "email" : "s@example.com" , "k" : [ 1 , 2 ] } } """),
        ("numeric-ids-group", """{"type":"group","groupId":42,"userId":12,"anonymousId":7.5,"messageId":"m10","traits":{"plan":"pro","n":1E+2}}"""),
        ("bool-ids-group", """{"type":"group","groupId":true,"userId":false,"messageId":"m11","traits":null}"""),
        ("object-id-group", """{"type":"group","groupId":{"id":1},"userId":"u1","messageId":"m12","traits":{ }}"""),
        ("unicode-track", """{"type":"track","event":"Köpt \u00e9 <b>","userId":"u1","anonymousId":"","messageId":"m13","properties":{"q":"\u003c","n":[1.0,2e-3]},"context":{"ip":"198.51.100.1","page":{"url":"https://x.example/?a=1&b=2"}}}"""),
        ("numeric-event-track", """{"type":"track","event":5,"userId":"u1","messageId":"m14","properties":[1],"context":"c"}"""),
        ("null-objects-track", """{"type":"track","event":"E","userId":"u1","messageId":"m15","properties":null,"context":null}"""),
        ("page-event-null", """{"type":"page","name":"Home","event":null,"userId":"u1","messageId":"m16","properties":{"url":"u"},"context":{}}"""),
        ("ascii-html-identify", "{\"type\":\"identify\",\"userId\":\"u<1>\",\"messageId\":\"m18\",\"traits\":{\"h\":\"<b>&amp;</b> 'q' a+b `t` =\u007f\",\"email\":\"a+b@example.com\"}}"),
        ("index-keys-track", """{"type":"track","event":"E","userId":"u1","messageId":"m19","properties":{"b":1,"10":2,"2":{"1":"x","a":"y"}},"context":{"0":"z"}}"""),
        ("escaped-event-page", """{"type":"page","name":"Home","\u0065vent":"x","userId":"u1","messageId":"m17"}"""),
    ];

    /// <summary>Mappings beyond the presets and the fixtures': nested paths, brackets, templates and conditions.</summary>
    const string Custom = """
        [
          { "name": "Paths", "trigger": "type = \"identify\"", "action": "identify",
            "fields": { "userId": {"@path": "$.context.traits.id"}, "email": {"@path": "$.properties['email']"}, "traits": {"@path": "$.context"},
                        "anonymousId": {"@path": "$.traits.a[1].b"} } },
          { "name": "Template", "trigger": "type = \"track\"", "action": "track",
            "fields": { "eventName": {"@template": "{{event}} / {{properties.n}}"}, "userId": {"@if": {"exists": {"@path": "$.userId"}, "then": {"@path": "$.userId"}, "else": {"@path": "$.anonymousId"}}},
                        "context": {"@path": "$.context.page"}, "properties": {"@path": "$."} } },
          { "name": "Group literal", "trigger": "type = \"group\"", "action": "group",
            "fields": { "groupId": "fixed", "traits": {"@path": "$.traits"}, "userId": null } }
        ]
        """;

    static IEnumerable<(string Name, string Stored)> Events() => StoredEvents.Segment().Concat(StoredEvents.OwnFixtures()).Concat(Cases);

    /// <summary>The mapping lists: the presets, each fixture's custom mappings, the ones above.</summary>
    static IEnumerable<(string Name, UserMotionDestination Destination)> Destinations()
    {
        yield return ("presets", TestDestinations.Build(null));
        yield return ("custom", TestDestinations.Build(JsonNode.Parse(Custom)));
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*.json").Order(StringComparer.Ordinal))
            if (JsonNode.Parse(File.ReadAllText(file))!["mappings"] is { } mappings)
                yield return ($"fixture/{Path.GetFileName(file)}", TestDestinations.Build(mappings));
    }

    static IEnumerable<(string Name, string Stored, UserMotionDestination Destination, string Mapping)> All()
    {
        foreach (var (list, destination) in Destinations())
            foreach (var mapping in destination.Mappings)
                foreach (var (name, stored) in Events())
                    yield return ($"{list}|{mapping.Name}|{name}", stored, destination, mapping.Name);
    }

    public static TheoryData<string> Lists()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in Destinations()) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public void A_stored_event_maps_to_the_bytes_the_DOM_mapping_wrote(string list)
    {
        var expected = Expected.Value;
        var differences = StoredEvents.Differences(All().Where(a => a.Name.StartsWith(list + "|", StringComparison.Ordinal))
            .Select(a => (a.Name, a.Stored, (Func<SegmentEvent, string>)(e => Written(a.Destination.Map(e, a.Mapping), a.Destination)))), expected, out var count);
        Assert.True(count > 40, $"{list}: only {count} mapped");
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [Fact]
    public void Every_event_has_an_expected_line_and_each_action_sends()
    {
        var expected = Expected.Value;
        Assert.Equal(All().Select(a => a.Name).Order(StringComparer.Ordinal), expected.Keys.Order(StringComparer.Ordinal));
        // Guards the comparison against comparing outcomes only: every action sends for many events.
        foreach (var step in new[] { "identify", "group", "track" })
            Assert.True(expected.Values.Count(v => v.StartsWith(step + " POST ", StringComparison.Ordinal)) > 20, step);
    }

    [Fact]
    public void A_stored_event_is_mapped_with_the_presets_without_building_its_DOM()
    {
        var sent = 0;
        foreach (var (name, stored, destination, mapping) in All().Where(a => a.Name.StartsWith("presets|", StringComparison.Ordinal)))
        {
            var e = SegmentEvent.FromStored(stored);
            if (destination.Map(e, mapping).Outcome == MappingOutcome.Send) sent++;
            Assert.True(StoredEvents.HasNoDom(e), name);
        }
        Assert.True(sent > 60, $"only {sent} sent");
    }

    [Fact]
    public void Mapping_a_stored_event_leaves_it_as_stored()
    {
        foreach (var (name, stored, destination, mapping) in All().Where(a => a.Name.StartsWith("presets|", StringComparison.Ordinal)))
        {
            var e = SegmentEvent.FromStored(stored);
            var before = e.CurrentUtf8Json().ToArray();
            _ = StoredEvents.Line(() => Written(destination.Map(e, mapping), destination));
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(before), JsonNode.Parse(e.CurrentUtf8Json().Span)), name);
        }
    }

    static readonly Lazy<Dictionary<string, string>> Expected = new(() => StoredEvents.ExpectedLines(() => All().Select(a =>
        (a.Name, StoredEvents.Line(() => Written(a.Destination.Map(SegmentEvent.FromStored(a.Stored), a.Mapping), a.Destination))))));

    /// <summary>Each request as <see cref="UserMotionClient"/> sends it (URL, <c>ToJsonString()</c> of the body); or the outcome.</summary>
    static string Written(MappingResult result, UserMotionDestination destination)
    {
        if (result.Outcome != MappingOutcome.Send) return $"{result.Outcome} {result.Reason} {result.Detail}";
        return string.Join(" | ", result.Requests.Select(r => $"{r.Step} {r.Method} {destination.Describe(r)} {r.Body?.ToJsonString()}"));
    }
}
