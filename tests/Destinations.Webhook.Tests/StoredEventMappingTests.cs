using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Webhook.Tests;

/// <summary>
/// The dispatcher maps an event as the store holds it (<see cref="SegmentEvent.FromStored"/>). Whatever the mapping reads it
/// with, what goes on the wire (<see cref="WebhookClient.Build"/>: method, URL, headers, the body's bytes and so the
/// signature) must be what mapping through the event's DOM made: <c>MappedBytes/expected.txt</c> holds that for every core and
/// shared Segment fixture, the events of <see cref="ReferenceEqualityTests"/> and the cases below, under every mapping of
/// <see cref="ReferenceEqualityTests"/> and the ones below (each mapping applied to every event, whatever its trigger).
/// </summary>
public sealed class StoredEventMappingTests
{
    const string Secret = "whsec-stored-7d1a";

    static readonly (string Name, string Stored)[] Cases =
    [
        ("pretty-unicode-track", """
            { "type" : "track", "event": "Köpt", "userId": "u1", "messageId": "m1",
              "properties": { "name" : "Zoë <b>&</b> 'x'+y", "emoji": "\ud83d\ude00", "n": 1.50, "e": 1E+3, "a": [ 1, {"b" : null} ] },
              "context": { "bio": "line\u2028two\n\t\"q\" \\ \u0001 \u007f" } }
            """),
        ("escaped-names-track", """{"type":"track","event":"E","userId":"u\u00e9","messageId":"m2","prop\u0065rties":{"x":"a\"b\\c\n","\u00e9":"\u003c"},"cont\u0065xt":{"ip":"1.2.3.4"}}"""),
        ("index-keys-track", """{"type":"track","event":"E","userId":"u1","messageId":"m3","properties":{"b":1,"10":2,"2":{"1":"x","a":"y","0":"z"},"01":4,"4294967295":5,"4294967294":6},"context":{"page":{"url":"https://x.example/"}}}"""),
        ("ascii-only-identify", """{"type":"identify","userId":"u1","anonymousId":"a1","messageId":"m4","traits":{"email":"a@example.com","plan":"pro","n":[1,2,{"k":true}],"z":null},"context":{"ip":"198.51.100.1"}}"""),
        ("spaced-track", """ { "type" : "track" , "event" : "E" , "userId" : 7 , "messageId" : "m5" , "properties" : { "n" : 1 , "l" : [ ] , "o" : { } } } """),
        ("not-objects-track", """{"type":"track","event":"E","userId":"u1","messageId":"m6","properties":[1,"a"],"context":"c","traits":null}"""),
        ("ascii-html-track", "{\"type\":\"track\",\"event\":\"E\",\"userId\":\"u1\",\"messageId\":\"m8\",\"properties\":{\"h\":\"<b>&amp;</b> 'q' a+b `t` =\u007f\",\"n\":1}}"),
        ("non-ascii-track", """{"type":"track","event":"Köpt","userId":"u1","messageId":"m9","properties":{"name":"Zoë 😀 مرحبا \u2028","n":[1,{"k":"é"}]}}"""),
        ("path-syntax-track", """{"type":"track","event":"E <1>","userId":"u1","messageId":"m10","properties":{"odd key":{"v":"ok"},"items":[{"sku":"a"},{"sku":"b","n":2.50}],"weird[x]":"w","n":1.0,"t":true},"context":{"ip":"198.51.100.1"}}"""),
        ("big-numbers-track", """{"type":"track","event":"E","userId":"u1","messageId":"m7","properties":{"big":12345678901234567890,"frac":129.90,"exp":1E-7,"negzero":-0.0}}"""),
    ];

    /// <summary>Mappings beyond the reference cases': one whose paths all start at the root, and the data left to its default.</summary>
    static readonly (string Name, string Fields, string Trigger)[] Mappings =
    [
        ("simple-paths", """{"url": "https://api.example.com/events", "headers": {"X-User": {"@path": "$.userId"}}, "data": {"id": {"@path": "$.userId"}, "anon": {"@path": "$.anonymousId"}, "props": {"@path": "$.properties"}, "ctx": {"@path": "$.context"}, "traits": {"@path": "$.traits"}, "event": {"@path": "$.event"}, "type": {"@path": "$.type"}, "missing": {"@path": "$.nope"}}}""", "type = \"track\""),
        ("default-data", """{"url": "https://api.example.com/events"}""", "type = \"track\""),
        // Segment's path syntax beyond dots (quoted keys, indexes, brackets that are part of a key), in paths and templates,
        // and values of every kind where a template prints them.
        ("bracket-paths", """{"url": "https://api.example.com/events", "data": {"quoted": {"@path": "$.properties['odd key'].v"}, "dq": {"@path": "$.properties[\"odd key\"]"}, "indexed": {"@path": "$.properties.items[1].sku"}, "dotIndex": {"@path": "$.properties.items.0"}, "bracketKey": {"@path": "$.properties.weird[x]"}, "first": {"@path": "properties.n"}, "dots": {"@path": "$..properties..n"}, "root": {"@path": ".."}, "text": {"@template": "{{properties['odd key'].v}}|{{properties.items[0].sku}}|{{properties.items}}|{{properties.n}}|{{properties}}|{{properties.t}}|{{properties.none}}|{{{event}}}|{{context.ip}}"}, "cond": {"@if": {"exists": {"@path": "$.properties.items[5]"}, "then": "yes", "else": {"@path": "$.properties.items[0]"}}}, "list": [{"@path": "$.properties.n"}, {"@path": "$.nope"}, {"nested": {"@path": "$.properties.items[0]"}}]}}""", "type = \"track\""),
        ("batched-default-data", """{"url": "https://api.example.com/bulk", "batch_size": 10, "batch_keys": ["url", "headers"], "headers": {"X-Type": {"@path": "$.type"}}}""", "type = \"track\""),
    ];

    static IEnumerable<(string Name, string Stored)> Events()
    {
        foreach (var e in StoredEvents.Segment()) yield return e;
        foreach (var c in ReferenceEqualityTests.Cases)
        {
            var events = JsonNode.Parse(c.Events)!.AsArray();
            for (var i = 0; i < events.Count; i++) yield return ($"reference/{c.Name}#{i}", events[i]!.ToJsonString());
        }
        foreach (var c in Cases) yield return c;
    }

    /// <summary>One destination per mapping: the reference cases' mappings, then the ones above.</summary>
    static readonly Lazy<(string Name, WebhookDestination Destination)[]> Destinations = new(() =>
        ReferenceEqualityTests.Cases.Select(c => ($"reference/{c.Name}", c.Fields, c.Trigger))
            .Concat(Mappings.Select(m => ($"own/{m.Name}", m.Fields, m.Trigger)))
            .Select(m => (m.Item1, Build(m.Fields, m.Trigger))).ToArray());

    static WebhookDestination Build(string fields, string trigger)
    {
        var mappings = new JsonArray(new JsonObject
        {
            ["name"] = "m", ["trigger"] = trigger, ["action"] = "send", ["fields"] = JsonNode.Parse(fields),
        });
        using var host = new TestHost(mappings.ToJsonString(), new Dictionary<string, string?>
        {
            ["SharedSecret"] = Secret,
            ["AllowedHosts:0"] = "api.example.com",
        });
        return host.Destination();
    }

    static IEnumerable<(string Name, string Stored, WebhookDestination Destination)> All()
    {
        foreach (var (mapping, destination) in Destinations.Value)
            foreach (var (name, stored) in Events())
                yield return ($"{mapping}|{name}", stored, destination);
    }

    public static TheoryData<string> MappingNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in ReferenceEqualityTests.Cases) data.Add($"reference/{c.Name}");
        foreach (var m in Mappings) data.Add($"own/{m.Name}");
        return data;
    }

    [Theory]
    [MemberData(nameof(MappingNames))]
    public void A_stored_event_goes_on_the_wire_as_the_DOM_mapping_made_it(string mapping)
    {
        var expected = Expected.Value;
        var differences = StoredEvents.Differences(All().Where(a => a.Name.StartsWith(mapping + "|", StringComparison.Ordinal))
            .Select(a => (a.Name, a.Stored, (Func<SegmentEvent, string>)(e => Written(a.Destination.Map(e, "m"), a.Destination)))), expected, out var count);
        Assert.True(count > 40, $"{mapping}: only {count} mapped");
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [Fact]
    public void Every_event_has_an_expected_line_and_most_send_a_body()
    {
        var expected = Expected.Value;
        Assert.Equal(All().Select(a => a.Name).Order(StringComparer.Ordinal), expected.Keys.Order(StringComparer.Ordinal));
        // Guards the comparison against comparing outcomes only.
        Assert.True(expected.Values.Count(v => v.Contains(" body {", StringComparison.Ordinal)) > expected.Count / 2);
        Assert.Contains(expected.Values, v => v.StartsWith("batch ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_stored_event_is_mapped_with_paths_and_templates_without_building_its_DOM()
    {
        // The mappings made of @path, @template, @if exists and literals; the others are resolved against the DOM.
        string[] read = ["own/simple-paths", "own/bracket-paths", "own/default-data", "own/batched-default-data", "reference/the whole event with the default data mapping",
            "reference/nested data with missing paths", "reference/a @template URL and a method", "reference/object keys that look like array indexes"];
        var sent = 0;
        foreach (var (name, stored, destination) in All().Where(a => read.Any(m => a.Name.StartsWith(m + "|", StringComparison.Ordinal))))
        {
            var e = SegmentEvent.FromStored(stored);
            var result = destination.Map(e, "m");
            if (result.Outcome == MappingOutcome.Send)
            {
                sent++;
                _ = Written(result, destination);
            }
            Assert.True(StoredEvents.HasNoDom(e), name);
        }
        Assert.True(sent > 100, $"only {sent} sent");
    }

    [Fact]
    public void Mapping_a_stored_event_leaves_it_as_stored()
    {
        foreach (var (name, stored, destination) in All().Where(a => a.Name.StartsWith("own/", StringComparison.Ordinal)))
        {
            var e = SegmentEvent.FromStored(stored);
            var before = e.CurrentUtf8Json().ToArray();
            _ = StoredEvents.Line(() => Written(destination.Map(e, "m"), destination));
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(before), JsonNode.Parse(e.CurrentUtf8Json().Span)), name);
        }
    }

    static readonly Lazy<Dictionary<string, string>> Expected = new(() => StoredEvents.ExpectedLines(() => All().Select(a =>
        (a.Name, StoredEvents.Line(() => Written(a.Destination.Map(SegmentEvent.FromStored(a.Stored), "m"), a.Destination))))));

    /// <summary>Each request as it goes on the wire alone (method, URL, headers with the signature, body); or the outcome.</summary>
    static string Written(MappingResult result, WebhookDestination d)
    {
        if (result.Outcome != MappingOutcome.Send) return $"{result.Outcome} {result.Reason} {result.Detail}";
        return string.Join(" | ", result.Requests.Select(r =>
        {
            var wire = WebhookClient.Build([r], WebhookRequests.IsBatched(r), d.Settings, d.SecretUse);
            var headers = string.Join(" ", wire.Headers.Select(h => $"{h.Key}: {h.Value};"));
            var body = wire.Body is null ? "none" : Encoding.UTF8.GetString(wire.Body);
            return $"{r.Step} {wire.Method} {wire.Url} {headers} body {body}";
        }));
    }
}
