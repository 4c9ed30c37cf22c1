using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Segment;

namespace Destinations.Core.Tests.Segment;

/// <summary>
/// The one-pass reader against the document-based one on the same bodies: every answer the same (the stored JSON byte for
/// byte, the typed fields, errors with their fields and messages), and the one pass actually taken where it should be.
/// </summary>
public class OnePassReaderTests
{
    static readonly SegmentEventReader Events = new(new SegmentEventValidator(), new FixedClock());
    readonly SegmentPayloadReader _onePass = new(Events);
    readonly SegmentPayloadReader _longWay = new(Events) { OnePass = false };

    const string Track = """{"type":"track","channel":"browser","context":{"ip":"198.51.100.23","userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36","locale":"en-US","library":{"name":"analytics.js","version":"next-1.70.0"},"page":{"path":"/pricing","referrer":"https://www.example.org/","search":"?plan=pro","title":"Pricing","url":"https://app.example.com/pricing?plan=pro"},"timezone":"Europe/Amsterdam"},"integrations":{},"originalTimestamp":"2026-11-20T10:15:30.120Z","sentAt":"2026-11-20T10:15:30.500Z","timestamp":"2026-11-20T10:15:30.622Z","messageId":"bench-1","anonymousId":"5a6c2e74-0b8e-4f4a-9d2c-7b1c1f0e9a11","userId":"user-1","event":"Order Completed","properties":{"order_id":"ord_1009","total":129.9,"revenue":119.9,"currency":"EUR","products":[{"product_id":"sku_1","name":"Seat","price":59.95,"quantity":2}]}}""";

    /// <summary>The track event with <paramref name="edit"/> applied to its DOM (compact output).</summary>
    static string Edited(Action<JsonObject> edit)
    {
        var o = JsonNode.Parse(Track)!.AsObject();
        edit(o);
        return o.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>Events the one pass reads itself.</summary>
    public static TheoryData<string> Usual() =>
    [
        Track,
        JsonNode.Parse(Track)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }),
        Track.Replace("\"context\":", "\"context\" :   ").Replace(",\"page\":{", ", \"page\" : {\n"),
        "\uFEFF" + Track,
        Edited(o => o["context"]!["page"]!["title"] = "Prijs — €5 <b>&'+` 日本"),
        Edited(o => o["properties"]!["prénom"] = "José"),
        Track.Replace("\"Pricing\"", "\"say \\\"hi\\\"\\n\\u00e9\\/ \\t\""),
        Edited(o => o["userId"] = 8412),
        Edited(o => { o["userId"] = JsonValue.Create(-1.5e3); o["anonymousId"] = JsonValue.Create(12.50m); }),
        Edited(o => { o["context"] = null; o["integrations"] = null; o["sentAt"] = null; o["receivedAt"] = null; }),
        Edited(o => o["messageId"] = null),
        Edited(o => o["messageId"] = ""),
        Edited(o => { o.Remove("messageId"); o.Remove("receivedAt"); }),
        Edited(o => o["receivedAt"] = "2026-11-20T10:15:31.000Z"),
        Edited(o => o["type"] = "TRACK"),
        Edited(o => o["integrations"] = new JsonObject { ["All"] = false, ["Salesmachine"] = true, ["UserMotion (Actions)"] = new JsonObject { ["x"] = 1 } }),
        Edited(o => o["writeKey"] = "wk-in-body"),
        Edited(o => o["version"] = 2),
        Edited(o => o["version"] = "1.1"),
        Edited(o => o["timestamp"] = "2026-11-20T10:15:30Z"),
        Edited(o => o["timestamp"] = "2026-11-20T10:15:30.622000+00:00"),
        Edited(o => o["originalTimestamp"] = "2026-11-20"),
        Edited(o => o["properties"]!["big"] = JsonNode.Parse("[1e5,-0.0,12345678901234567890123,true,false,null,{},[],\"\"]")),
        Edited(o => { o["type"] = "identify"; o.Remove("event"); o["traits"] = new JsonObject { ["email"] = "a@example.com", ["vip"] = true }; }),
        Edited(o => { o["type"] = "group"; o["groupId"] = "g-1"; }),
        Edited(o => { o["type"] = "alias"; o["previousId"] = 77; }),
        Edited(o => { o["type"] = "page"; o["name"] = "Pricing"; o["category"] = "Docs"; o.Remove("event"); }),
        Edited(o => { o["type"] = "delete"; o.Remove("userId"); }),
        Edited(o => o["unknown"] = new JsonObject { ["nested"] = new JsonArray(1, "two", new JsonObject { ["three"] = 3 }) }),
    ];

    /// <summary>Bodies the one pass leaves to the long way (which answers them, some with errors).</summary>
    public static TheoryData<string> Unusual() =>
    [
        Edited(o => o.Remove("userId")).Replace("\"anonymousId\":\"5a6c2e74-0b8e-4f4a-9d2c-7b1c1f0e9a11\",", ""),
        Edited(o => o["type"] = 3),
        Edited(o => o["type"] = "purchase"),
        Edited(o => o["type"] = "TRAC\u212A"),
        Edited(o => o["userId"] = new JsonObject()),
        Edited(o => o["userId"] = JsonValue.Create(1e300)).Replace("1E+300", "1e+300"),
        Edited(o => o["userId"] = "has\u0000nul"),
        Edited(o => o["traits"] = "not an object"),
        Edited(o => o["event"] = 5),
        Edited(o => o["timestamp"] = "yesterday"),
        Edited(o => o["messageId"] = new string('m', 101)),
        Edited(o => o["version"] = true),
        Track.Replace("\"ip\":\"198.51.100.23\"", "\"ip\":\"198.51.100.23\",\"ip\":\"x\""),
        Track.Replace("\"locale\"", "\"loc\\u0061le\""),
        Track.Replace("\"Pricing\"", "\"\\ud800\""),
        Edited(o => o["properties"] = new JsonObject(Enumerable.Range(0, 70).Select(i => KeyValuePair.Create($"k{i}", (JsonNode?)i)))),
        Track[..^1],
        Track + "x",
        "",
        "[]",
        "\"just a string\"",
        new string('[', 70) + new string(']', 70),
    ];

    [Theory]
    [MemberData(nameof(Usual))]
    public void A_usual_event_is_read_in_one_pass_as_the_long_way_reads_it(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.NotNull(Events.TryReadInOnePass(bytes, BodyForm.TrackingApiEvent, null));
        Assert.NotNull(Events.TryReadInOnePass(bytes, BodyForm.Webhook, null));
        if (body.Contains("\"event\"", StringComparison.Ordinal))
            Assert.NotNull(Events.TryReadInOnePass(bytes, BodyForm.TrackingApiEvent, CallTypes.Track));
        Same(_longWay.ReadTrackingApiEvent(bytes, CallTypes.Track), _onePass.ReadTrackingApiEvent(bytes, CallTypes.Track));
        Same(_longWay.ReadTrackingApiEvent(bytes, CallTypes.Identify), _onePass.ReadTrackingApiEvent(bytes, CallTypes.Identify));
        Same(_longWay.ReadWebhook(bytes), _onePass.ReadWebhook(bytes));
    }

    [Theory]
    [MemberData(nameof(Usual))]
    public void A_batch_of_usual_events_is_read_in_one_pass_as_the_long_way_reads_it(string body)
    {
        var others = ((IEnumerable<object[]>)Usual()).Select(row => (string)row[0]).Where(b => b != body && !b.StartsWith('\uFEFF')).Take(3);
        var events = string.Join(",", [body.TrimStart('\uFEFF'), .. others]);
        foreach (var batch in new[]
        {
            $$"""{"batch":[{{events}}]}""",
            $$"""{"sentAt":"2026-11-20T10:16:00.000Z","batch":[{{events}}],"writeKey":"wk","context":{},"integrations":null}""",
            $$$"""{"batch":[{{{events}}}],"sentAt":"2026-11-20T10:16:00Z","extra":{"a":[1,{"b":2}]}}""",
        })
        {
            var bytes = Encoding.UTF8.GetBytes(batch);
            Assert.NotNull(Events.TryReadInOnePass(bytes, BodyForm.Batch, null));
            Same(_longWay.ReadBatch(bytes), _onePass.ReadBatch(bytes));
            var array = Encoding.UTF8.GetBytes($"[{events}]");
            Assert.NotNull(Events.TryReadInOnePass(array, BodyForm.Webhook, null));
            Same(_longWay.ReadWebhook(array), _onePass.ReadWebhook(array));
        }
    }

    [Fact]
    public void An_event_without_sentAt_or_with_a_null_one_takes_the_batch_s_in_one_pass()
    {
        var events = string.Join(",", Edited(o => o.Remove("sentAt")), Edited(o => o["sentAt"] = null), Track);
        var bytes = Encoding.UTF8.GetBytes($$"""{"batch":[{{events}}],"sentAt":"2026-11-20T10:16:00.000Z"}""");
        var read = Events.TryReadInOnePass(bytes, BodyForm.Batch, null);
        Assert.NotNull(read);
        Assert.Equal(["2026-11-20T10:16:00.000Z", "2026-11-20T10:16:00.000Z", "2026-11-20T10:15:30.500Z"],
            read.Events.Select(e => e.Event!.StringAt("sentAt")));
        Same(_longWay.ReadBatch(bytes), read);
    }

    [Theory]
    [MemberData(nameof(Unusual))]
    public void An_unusual_body_goes_the_long_way_and_gets_its_answer(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.Null(Events.TryReadInOnePass(bytes, BodyForm.TrackingApiEvent, null));
        Same(_longWay.ReadTrackingApiEvent(bytes, CallTypes.Track), _onePass.ReadTrackingApiEvent(bytes, CallTypes.Track));
        Same(_longWay.ReadWebhook(bytes), _onePass.ReadWebhook(bytes));
        var batch = Encoding.UTF8.GetBytes($$"""{"batch":[{{Track}},{{body}}]}""");
        Same(_longWay.ReadBatch(batch), _onePass.ReadBatch(batch));
    }

    [Theory]
    [InlineData("""{"batch":[{"type":"track","event":"E","userId":"u"}],"context":{"ip":"1.2.3.4"}}""")]
    [InlineData("""{"batch":[{"type":"track","event":"E","userId":"u"}],"integrations":{"All":false}}""")]
    [InlineData("""{"batch":[{"type":"track","event":"E","userId":"u"}],"sentAt":"soon"}""")]
    [InlineData("""{"batch":[{"type":"track","event":"E","userId":"u"}],"writeKey":5}""")]
    [InlineData("""{"batch":[]}""")]
    [InlineData("""{"batch":{}}""")]
    [InlineData("""{"batch":[1]}""")]
    [InlineData("""{"events":[]}""")]
    public void A_batch_envelope_to_merge_or_refuse_goes_the_long_way(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.Null(Events.TryReadInOnePass(bytes, BodyForm.Batch, null));
        Same(_longWay.ReadBatch(bytes), _onePass.ReadBatch(bytes));
    }

    [Fact]
    public void A_webhook_array_at_its_limit_is_read_in_one_pass_and_one_over_it_goes_the_long_way()
    {
        var small = """{"type":"track","event":"E","userId":"u","messageId":"m-{0}"}""";
        var atLimit = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(0, 4_000).Select(i => small.Replace("{0}", $"{i}"))) + "]");
        Assert.NotNull(Events.TryReadInOnePass(atLimit, BodyForm.Webhook, null));
        Same(_longWay.ReadWebhook(atLimit), _onePass.ReadWebhook(atLimit));
        var over = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(0, 4_001).Select(i => small.Replace("{0}", $"{i}"))) + "]");
        Assert.Null(Events.TryReadInOnePass(over, BodyForm.Webhook, null));
        Assert.Equal("the array has 4001 events; the limit is 4,000 events per webhook request", Assert.Single(_onePass.ReadWebhook(over).EnvelopeErrors).Message);
        // The thread's records, grown for 4,000 events, are let go: the next small body reads as before.
        Same(_longWay.ReadWebhook(Encoding.UTF8.GetBytes(Track)), _onePass.ReadWebhook(Encoding.UTF8.GetBytes(Track)));
    }

    [Fact]
    public void The_fixtures_read_the_same_both_ways()
    {
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(Fixtures.Path("track.json"))!, "*.json"))
        {
            var bytes = File.ReadAllBytes(file);
            Same(_longWay.ReadWebhook(bytes), _onePass.ReadWebhook(bytes));
            Same(_longWay.ReadBatch(bytes), _onePass.ReadBatch(bytes));
            Same(_longWay.ReadTrackingApiEvent(bytes, CallTypes.Page), _onePass.ReadTrackingApiEvent(bytes, CallTypes.Page));
        }
    }

    static void Same(PayloadReadResult expected, PayloadReadResult actual)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.IsJson, actual.IsJson);
        Assert.Equal(expected.WriteKey, actual.WriteKey);
        Assert.Equal(expected.EnvelopeErrors, actual.EnvelopeErrors);
        Assert.Equal(expected.Events.Count, actual.Events.Count);
        foreach (var (x, y) in expected.Events.Zip(actual.Events))
        {
            Assert.Equal(x.Index, y.Index);
            Assert.Equal(x.Errors, y.Errors);
            Assert.Equal(x.MessageIdGenerated, y.MessageIdGenerated);
            if (!x.MessageIdGenerated) Assert.Equal(x.MessageId, y.MessageId);
            Assert.Equal(x.Event is null, y.Event is null);
            if (x.Event is not { } a || y.Event is not { } b) continue;
            // A generated messageId is new each time: compared by where it is, not by its digits.
            Assert.Equal(Stored(a, x.MessageIdGenerated), Stored(b, y.MessageIdGenerated));
            Assert.Equal(a.Integrations?.ToJsonString(), b.Integrations?.ToJsonString());
            Assert.Equal((a.Type, a.UserId, a.AnonymousId, a.GroupId, a.PreviousId, a.Event, a.Name, a.Category, a.ReceivedAt),
                (b.Type, b.UserId, b.AnonymousId, b.GroupId, b.PreviousId, b.Event, b.Name, b.Category, b.ReceivedAt));
        }
    }

    static string Stored(SegmentEvent e, bool generated) =>
        generated ? e.ToJsonString().Replace(e.MessageId, "GENERATED", StringComparison.Ordinal) : e.ToJsonString();
}
