using static Destinations.Salesmachine.Tests.WrittenBodies;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Microsoft.Extensions.Configuration;

namespace Destinations.Salesmachine.Tests;

/// <summary>
/// The dispatcher maps an event as the store holds it (<see cref="SegmentEvent.FromStored"/>), from its bytes, without a DOM.
/// Every request body and every <c>/v1/batch</c> body it writes must be the bytes mapping through the event's DOM wrote:
/// <c>MappedBytes/expected.txt</c> holds what the DOM-and-deep-copy mapper wrote for each fixture and for the cases below
/// (stored forms a writer would not write, and the ways <c>account_uid</c> is added).
/// </summary>
public sealed class StoredEventMappingTests
{
    static readonly string Expected = Path.Combine(AppContext.BaseDirectory, "MappedBytes", "expected.txt");

    static readonly SalesmachineSettings Settings = new() { ApiToken = "t", ApiSecret = "s", AliasPath = "/v1/alias" };

    /// <summary>Stored bodies beyond the fixtures: escapes and characters the writer escapes, whitespace between tokens
    /// (a store written by other code), and each way params.account_uid comes about.</summary>
    static readonly (string Name, string Stored)[] Cases =
    [
        ("pretty-unicode-track", """
            { "type" : "track", "event": "Köpt", "userId": "u1", "messageId": "m1",
              "properties": { "name" : "Zoë <b>&</b> 'x'+y", "emoji": "\ud83d\ude00", "n": 1.50, "e": 1E+3, "a": [ 1, {"b" : null} ] },
              "context": { "groupId": "acct-é" } }
            """),
        ("escaped-name-track", """{"type":"track","event":"E","userId":"u1","messageId":"m2","prop\u0065rties":{"x":"a\"b\\c\n"},"context":{"groupId":"g1"}}"""),
        ("account-uid-null-track", """{"type":"track","event":"E","userId":"u1","messageId":"m3","properties":{"a":1,"account_uid":null,"b":2},"context":{"groupId":"g1"}}"""),
        ("empty-properties-track", """{"type":"track","event":"E","userId":"u1","messageId":"m4","properties":{},"context":{"groupId":"g<1>"}}"""),
        ("spaced-empty-properties-track", """{"type":"track","event":"E","userId":"u1","messageId":"m5","properties":{ },"context":{"groupId":"g1"}}"""),
        ("numeric-group-id-track", """{"type":"track","event":"E","userId":12,"messageId":"m6","properties":{"x":true},"context":{"groupId":7.0}}"""),
        ("properties-not-object-track", """{"type":"track","event":"E","userId":"u1","messageId":"m7","properties":[1],"context":{"groupId":"g1"}}"""),
        ("page-account-uid-object", """{"type":"page","name":"Home","category":"Docs","userId":"u1","messageId":"m8","properties":{"url":"https://x.example/?a=1&b=2","account_uid":{"id":1}},"context":{"ip":"198.51.100.1","page":{"title":"T","referrer":"https://r.example"}}}"""),
        ("identify-traits-escaped", """{"type":"identify","userId":"u1","messageId":"m9","traits":{"bio":"line\u2028two","q":"\u003c"}}"""),
        ("group-traits-spaced", """{"type":"group","groupId":"g1","userId":"u1","messageId":"m10","traits":{ "plan" : "pro" }}"""),
    ];

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in Stored()) data.Add(name);
        return data;
    }

    /// <summary>Each fixture's event as the store holds it (compact, escaped as the ingress writes it), then the cases.</summary>
    static IEnumerable<(string Name, string Stored)> Stored()
    {
        foreach (var name in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal))
            yield return (name!, MappingFixtures.Load(name!)["event"]!.ToJsonString());
        foreach (var c in Cases) yield return c;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_stored_event_maps_to_the_bytes_the_DOM_mapping_wrote(string name)
    {
        var stored = Stored().Single(s => s.Name == name).Stored;
        var expected = ExpectedLines()[name];

        Assert.Equal(expected, Written(SalesmachineMapper.Map(SegmentEvent.FromStored(stored), Settings)));
        // The same event read into a DOM first (a destination filter or a condition built it) maps to the same bytes.
        var withDom = SegmentEvent.FromStored(stored);
        _ = withDom.Json;
        Assert.Equal(expected, Written(SalesmachineMapper.Map(withDom, Settings)));
    }

    [Fact]
    public void Every_stored_case_has_an_expected_line()
    {
        Assert.Equal(Stored().Select(s => s.Name).Order(StringComparer.Ordinal), ExpectedLines().Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_property_filter_changes_what_is_mapped_from_a_stored_event()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sources:0:Id"] = "web",
            ["Sources:0:AllowUnsigned"] = "true",
            ["Destinations:0:Id"] = "sm",
            ["Destinations:0:Type"] = "Salesmachine",
            ["Destinations:0:Settings:ApiToken"] = "t",
            ["Destinations:0:Settings:ApiSecret"] = "s",
            ["Destinations:0:Filters:0:dropProperties:0"] = "properties.email",
            ["Destinations:0:Filters:0:dropProperties:1"] = "context.groupId",
        }).Build();
        using var host = new TestHost(new Dictionary<string, string?>());
        var registry = DestinationRegistry.Build(configuration, [host.Factory]);
        var e = SegmentEvent.FromStored("""{"type":"track","event":"E","userId":"u1","messageId":"m1","properties":{"email":"a@example.com","n":1},"context":{"groupId":"g1"}}""");

        var mapped = registry.Map(registry.Find("sm")!, e, "track");

        Assert.Equal(["properties.email", "context.groupId"], mapped.Removed.Select(r => r.Path));
        var request = Assert.Single(mapped.Result.Requests);
        Assert.Equal("""{"contact_uid":"u1","event_uid":"E","params":{"n":1}}""", request.Body!.ToJsonString());
    }

    [Fact]
    public void A_stored_event_that_is_not_a_JSON_object_or_not_JSON_is_refused_when_read()
    {
        Assert.Throws<FormatException>(() => SegmentEvent.FromStored("[1]"));
        Assert.ThrowsAny<JsonException>(() => SegmentEvent.FromStored("""{"type":"track","properties":{"a":}"""));
        Assert.ThrowsAny<JsonException>(() => SegmentEvent.FromStored("""{"type":"track"} x"""));
    }

    [Fact]
    public void A_copied_body_reads_and_serializes_as_the_JSON_it_writes()
    {
        var e = SegmentEvent.FromStored("""{"type":"identify","userId":"u1","messageId":"m1","traits":{"plan":"pro","n":[1,2]}}""");
        var body = Assert.Single(SalesmachineMapper.Map(e, Settings).Requests).Body!;

        Assert.Equal(JsonValueKind.Object, body["params"]!.GetValueKind());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"plan":"pro","n":[1,2]}"""), body["params"]));
        Assert.Equal("pro", body["params"]!.DeepClone()["plan"]!.GetValue<string>());
        // Serialized with other options (the dry-run's, the console's), it is still the JSON, laid out as asked.
        Assert.Equal("""{"contact_uid":"u1","params":{"plan":"pro","n":[1,2]}}""", JsonSerializer.Serialize(body, new JsonSerializerOptions()));
        var indented = new JsonSerializerOptions { WriteIndented = true, TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        Assert.Equal(JsonNode.Parse(body.ToJsonString())!.ToJsonString(indented), body.ToJsonString(indented));
    }

    static Dictionary<string, string> ExpectedLines()
    {
        if (Environment.GetEnvironmentVariable("MAPPED_BYTES_WRITE") is { Length: > 0 } path)
        {
            // Records what the mapper in this build writes (run on the DOM mapper to make the expected file); never passes.
            File.WriteAllLines(path, Stored().Select(s => $"{s.Name}\t{Written(SalesmachineMapper.Map(SegmentEvent.FromStored(s.Stored), Settings))}"));
            Assert.Fail($"wrote {path}");
        }
        return File.ReadAllLines(Expected).Select(l => l.Split('\t', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
    }
}
