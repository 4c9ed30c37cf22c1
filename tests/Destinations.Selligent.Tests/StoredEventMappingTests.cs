using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Selligent.Tests;

/// <summary>
/// The dispatcher maps an event as the store holds it (<see cref="SegmentEvent.FromStored"/>). Whatever the mapper reads it
/// with, every request (step, method, URL, body) and every <c>data/load</c> body of an event row must be the bytes mapping
/// through the event's DOM wrote: <c>MappedBytes/expected.txt</c> holds what the DOM mapper wrote for every core and shared
/// Segment fixture, this project's fixtures and the cases below, under each settings variant (and each fixture under its
/// own settings).
/// </summary>
public sealed class StoredEventMappingTests
{
    /// <summary>Stored forms beyond the fixtures: escapes and characters the writers treat differently, whitespace between
    /// tokens (a store written by other code), values of other kinds where the mapper reads ids, times and group traits.</summary>
    static readonly (string Name, string Stored)[] Cases =
    [
        ("pretty-unicode-track", """
            { "type" : "track", "event": "Order Completed", "userId": "u1", "messageId": "m1", "timestamp" : "2026-11-20T10:15:30+02:00",
              "properties": { "name" : "Zoë <b>&</b> 'x'+y", "emoji": "\ud83d\ude00", "n": 1.50, "e": 1E+3, "a": [ 1, {"b" : null} ] },
              "context": { "groupId": "acct-é", "bio": "line\u2028two\n\t\"q\" \\ \u0001" } }
            """),
        ("escaped-names-identify", """{"type":"identify","userId":"u1","messageId":"m2","tr\u0061its":{"x":"a\"b\\c\n","\u00e9":"\u003c"},"cont\u0065xt":{"ip":"1.2.3.4"},"originalTimestamp":"2026-11-20T10:15:30Z"}"""),
        ("ascii-only-track", """{"type":"track","event":"Order Completed","userId":"u1","anonymousId":"a1","messageId":"m3","properties":{"plan":"pro","n":[1,2,{"k":true}]},"context":{"ip":"198.51.100.1","page":{"url":"https://x.example/?a=1&b=2"}}}"""),
        ("spaced-empty-objects-page", """{"type":"page","name":"Home","userId":"u1","messageId":"m4","properties":{ },"context":{  }}"""),
        ("not-objects-screen", """{"type":"screen","name":"S","userId":"u1","messageId":"m5","properties":[1],"context":"c"}"""),
        ("null-objects-track", """{"type":"track","event":"Order Completed","userId":"u1","messageId":"m6","properties":null,"context":null,"timestamp":null,"receivedAt":"2026-11-20T10:15:31.002Z"}"""),
        ("numeric-ids-alias", """{"type":"alias","userId":12,"previousId":7.0,"anonymousId":"","messageId":"m7","timestamp":1700000000,"originalTimestamp":"not a time","receivedAt":"2026-11-20T10:15:31Z"}"""),
        ("escaped-timestamp-identify", """{"type":"identify","userId":"u1","messageId":"m8","timestamp":"2026\u002d11-20T10:15:30.5Z","traits":{}}"""),
        ("group-lowercase-remove", """{"type":"group","groupId":"seg","userId":"u1","messageId":"m9","traits":{"matchkey":"MAIL","userlist":"USERS","method":"remove"}}"""),
        ("group-numeric-method", """{"type":"group","groupId":"seg","userId":"u1","messageId":"m10","traits":{"matchkey":"MAIL","userlist":"USERS","method":1}}"""),
        ("group-object-method", """{"type":"group","groupId":"seg","userId":"u1","messageId":"m11","traits":{"matchkey":"MAIL","userlist":"USERS","method":{"a":"b\u00e9"}}}"""),
        ("group-numeric-traits", """{"type":"group","groupId":42,"userId":"u1","messageId":"m12","traits":{"matchkey":5,"userlist":6.5,"method":"Add"}}"""),
        ("group-traits-not-object", """{"type":"group","groupId":"seg","userId":"u1","messageId":"m13","traits":["matchkey"]}"""),
        // ASCII the writers treat differently (HTML-sensitive characters, DEL as it is), and no escapes.
        ("ascii-html-track", "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"u1\",\"messageId\":\"m15\",\"properties\":{\"h\":\"<b>&amp;</b> 'q' a+b `t` =\u007f\",\"n\":-0.0},\"context\":{\"x\":\"<&>\"}}"),
        ("group-escaped-traits", """{"type":"group","groupId":"s\/g","userId":"u\u00e9","messageId":"m14","traits":{"m\u0061tchkey":"MAIL","userlist":"US\u0045RS","method":""}}"""),
    ];

    /// <summary>Settings the events are mapped under (<see cref="TestEvents.Settings"/> names).</summary>
    static readonly (string Name, string Settings)[] Variants =
    [
        ("defaults", "{}"),
        ("all-on", """{"SendAliasEvents":true,"SendGroupEvents":true,"SendPageEvents":true,"SendScreenEvents":true}"""),
        ("custom-columns", """{"SendAliasEvents":true,"SendGroupEvents":true,"SendPageEvents":true,"SendScreenEvents":true,"Organization":"ACME EU","EventsDataListApiName":"events/2026","Columns":{"MessageId":"MSG ID","Context":"CTX"}}"""),
    ];

    static IEnumerable<(string Name, string Stored)> Events() => StoredEvents.Segment().Concat(StoredEvents.OwnFixtures()).Concat(Cases);

    /// <summary>Every track event name of the events, so "all-on" sends their tracks (the allow-list is exact, D19).</summary>
    static readonly Lazy<string[]> TrackNames = new(() => Events()
        .Select(e => JsonNode.Parse(e.Stored)!["event"]).OfType<JsonValue>().Select(v => v.ToString()).Distinct().ToArray());

    static SelligentSettings SettingsOf(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        if (o.ContainsKey("SendPageEvents")) o["AllowedEvents"] = new JsonArray(TrackNames.Value.Select(n => (JsonNode?)n).ToArray());
        return TestEvents.Settings(o);
    }

    /// <summary>(name, stored event, settings) for every line of the expected file.</summary>
    static IEnumerable<(string Name, string Stored, SelligentSettings Settings)> All()
    {
        foreach (var (variant, settings) in Variants)
        {
            var s = SettingsOf(settings);
            foreach (var (name, stored) in Events()) yield return ($"{variant}|{name}", stored, s);
        }
        foreach (var fixture in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            var doc = TestEvents.Fixture(fixture!);
            yield return ($"own-settings|{fixture}", doc["event"]!.ToJsonString(), TestEvents.Settings(doc["settings"] as JsonObject));
        }
    }

    public static TheoryData<string> VariantNames()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in Variants) data.Add(name);
        data.Add("own-settings");
        return data;
    }

    [Theory]
    [MemberData(nameof(VariantNames))]
    public void A_stored_event_maps_to_the_bytes_the_DOM_mapping_wrote(string variant)
    {
        var expected = Expected.Value;
        var differences = StoredEvents.Differences(All().Where(a => a.Name.StartsWith(variant + "|", StringComparison.Ordinal))
            .Select(a => (a.Name, a.Stored, (Func<SegmentEvent, string>)(e => Written(SelligentMapper.Map(e, a.Settings), a.Settings)))), expected, out var count);
        Assert.True(count > 30, $"{variant}: only {count} events");
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [Fact]
    public void Every_event_has_an_expected_line_and_the_variants_send_rows()
    {
        var expected = Expected.Value;
        Assert.Equal(All().Select(a => a.Name).Order(StringComparer.Ordinal), expected.Keys.Order(StringComparer.Ordinal));
        // Guards the comparison against comparing outcomes only: most events send under "all-on", every call type among them.
        var sent = expected.Where(p => p.Key.StartsWith("all-on|", StringComparison.Ordinal) && p.Value.Contains("event-row POST ", StringComparison.Ordinal)).ToList();
        Assert.True(sent.Count > 40, $"only {sent.Count} sent");
        foreach (var type in new[] { "identify", "track", "page", "screen", "group", "alias" })
            Assert.Contains(sent, p => p.Value.Contains($"\"EVENT_TYPE\":\"{type}\"", StringComparison.Ordinal));
        Assert.Contains(expected.Values, v => v.Contains("segment-remove DELETE", StringComparison.Ordinal));
    }

    [Fact]
    public void A_stored_event_is_mapped_without_building_its_DOM()
    {
        var sent = 0;
        foreach (var (name, stored, settings) in All().Where(a => a.Name.StartsWith("all-on|", StringComparison.Ordinal)))
        {
            var e = SegmentEvent.FromStored(stored);
            Assert.True(StoredEvents.HasNoDom(e), name);
            if (SelligentMapper.Map(e, settings).Outcome == MappingOutcome.Send) sent++;
            Assert.True(StoredEvents.HasNoDom(e), name);
        }
        Assert.True(sent > 40, $"only {sent} sent");
    }

    [Fact]
    public void Mapping_a_stored_event_leaves_it_as_stored()
    {
        foreach (var (name, stored, settings) in All().Where(a => a.Name.StartsWith("all-on|", StringComparison.Ordinal)))
        {
            var e = SegmentEvent.FromStored(stored);
            var before = e.CurrentUtf8Json().ToArray();
            _ = StoredEvents.Line(() => Written(SelligentMapper.Map(e, settings), settings));
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(before), JsonNode.Parse(e.CurrentUtf8Json().Span)), name);
        }
    }

    static readonly Lazy<Dictionary<string, string>> Expected = new(() =>
        StoredEvents.ExpectedLines(() => All().Select(a => (a.Name, StoredEvents.Line(() => Written(SelligentMapper.Map(SegmentEvent.FromStored(a.Stored), a.Settings), a.Settings))))));

    /// <summary>Each request as the client sends it (URL and body), and an event row's <c>data/load</c> body; or the outcome.</summary>
    static string Written(MappingResult result, SelligentSettings settings)
    {
        if (result.Outcome != MappingOutcome.Send) return $"{result.Outcome} {result.Reason} {result.Detail}";
        return string.Join(" | ", result.Requests.Select(r =>
        {
            var line = $"{r.Step} {r.Method} {settings.UrlFor(r.Path)} {r.Body?.ToJsonString()}";
            return r.Body is JsonObject row ? $"{line} load {SelligentLoadBody.Build([row]).ToJsonString()}" : line;
        }));
    }
}
