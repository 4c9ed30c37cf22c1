using System.Text;
using Destinations.Core.Segment;

namespace Destinations.Core.Tests.Segment;

public class SegmentPayloadReaderTests
{
    readonly SegmentPayloadReader _reader = new(new SegmentEventReader(new SegmentEventValidator(), new FixedClock()));

    static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>A valid track event padded with a property to exactly <paramref name="size"/> bytes.</summary>
    static string EventOfSize(int size, string messageId = "m")
    {
        var head = $$"""{"type":"track","event":"E","userId":"u","messageId":"{{messageId}}","properties":{"pad":""" + "\"";
        const string tail = "\"}}";
        return head + new string('x', size - head.Length - tail.Length) + tail;
    }

    [Fact]
    public void Tracking_api_event_reads_writeKey_and_path_type()
    {
        var r = _reader.ReadTrackingApiEvent(Utf8("""{"event":"E","userId":"u","writeKey":"wk-1","type":"page"}"""), CallTypes.Track);
        Assert.Equal(PayloadShape.Single, r.Shape);
        Assert.Equal("wk-1", r.WriteKey);
        var e = Assert.Single(r.Events);
        Assert.True(e.IsValid);
        Assert.Equal("track", e.Event!.Type);
    }

    [Fact]
    public void Tracking_api_event_over_32_KB_is_rejected_naming_the_limit()
    {
        Assert.True(_reader.ReadTrackingApiEvent(Utf8(EventOfSize(32 * 1024)), CallTypes.Track).EnvelopeIsValid);
        var r = _reader.ReadTrackingApiEvent(Utf8(EventOfSize(32 * 1024 + 1)), CallTypes.Track);
        var error = Assert.Single(r.EnvelopeErrors);
        Assert.Equal(new FieldError("body", "the body is 32,769 bytes; the limit for a Tracking-API event is 32 KB"), error);
    }

    [Fact]
    public void Batch_fixture_reads_every_event_and_fills_sentAt()
    {
        var r = _reader.ReadBatch(Fixtures.Bytes("tracking-api-batch.json"));
        Assert.Equal(PayloadShape.Batch, r.Shape);
        Assert.All(r.Events, e => Assert.True(e.IsValid));
        Assert.Equal(["node-17-a", "node-17-b"], r.Events.Select(e => e.MessageId));
        Assert.All(r.Events, e => Assert.Equal("2026-11-20T10:20:00.200Z", e.Event!.StringAt("sentAt")));
    }

    [Fact]
    public void Batch_envelope_merges_context_and_integrations_one_level_deep_event_keys_win_D3()
    {
        var r = _reader.ReadBatch(Fixtures.Bytes("tracking-api-batch-envelope-merge.json"));
        Assert.Equal("example-write-key", r.WriteKey);
        var (a, b) = (r.Events[0].Event!, r.Events[1].Event!);
        Assert.Equal("""{"locale":"nl-NL","ip":"203.0.113.9","library":{"name":"http","version":"1"}}""", a.Context!.ToJsonString());
        Assert.Equal("""{"UserMotion (Actions)":false}""", a.Integrations!.ToJsonString());
        Assert.Equal("""{"ip":"203.0.113.9","locale":"en-US","library":{"name":"http","version":"1"}}""", b.Context!.ToJsonString());
        Assert.Equal("""{"Salesmachine":false,"UserMotion (Actions)":false}""", b.Integrations!.ToJsonString());
        Assert.All(r.Events, e => Assert.False(e.Event!.Json.ContainsKey("writeKey")));
    }

    /// <summary>Values are copied as received when that is what the writer would write anyway; whatever the writer writes
    /// otherwise (whitespace between tokens, escapes, non-ASCII, HTML-sensitive characters) is written token by token, so the
    /// stored JSON does not depend on how the sender formatted it.</summary>
    [Theory]
    [InlineData("""{"ua":"Mozilla/5.0 (X11; Linux) Chrome","n":[1, 2.50,true,null],"o":{"a b":"c d"}}""")]
    [InlineData("""{"url":"https://x.example/?a=1&b=2","tz":"+01:00","q":"<b>'`</b>"}""")]
    [InlineData("""{"city":"Zürich","esc":"a\"b\/c\u0041","name\u0041":"v"}""")]
    [InlineData("""{"deep":{"list":[{"k":"v w"} , {"k":"x"}]},"e":{}}""")]
    public void The_stored_json_is_the_same_compact_text_however_the_body_was_spaced(string properties)
    {
        var compact = _reader.ReadTrackingApiEvent(Utf8($$"""{"type":"track","event":"E","userId":"u","messageId":"m","properties":{{properties}}}"""),
            CallTypes.Track);
        var spaced = _reader.ReadTrackingApiEvent(Utf8($$"""
            {
              "type": "track", "event": "E", "userId": "u", "messageId": "m",
              "properties": {{properties}}
            }
            """), CallTypes.Track);
        var stored = compact.Events[0].Event!.ToJsonString();
        Assert.Equal(stored, spaced.Events[0].Event!.ToJsonString());
        // The same text as the DOM writes for the event (compact, the writer's escaping).
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(System.Text.Json.Nodes.JsonNode.Parse(stored)), stored);
    }

    [Fact]
    public void Null_context_integrations_and_sentAt_take_the_envelope_values_in_place_D3()
    {
        var r = _reader.ReadBatch(Utf8("""
            {"context":{"ip":"1.2.3.4"},"integrations":{"All":false},"sentAt":"2026-11-20T10:00:00.000Z",
             "batch":[{"type":"track","context":null,"event":"E","integrations":null,"userId":"u","sentAt":null,"messageId":"m"}]}
            """));
        var e = Assert.Single(r.Events).Event!;
        Assert.Equal(
            """{"type":"track","context":{"ip":"1.2.3.4"},"event":"E","integrations":{"All":false},"userId":"u","sentAt":"2026-11-20T10:00:00.000Z","messageId":"m","receivedAt":"2026-11-22T09:30:00.123Z"}""",
            e.ToJsonString());
        Assert.False(e.Integrations!["All"]!.GetValue<bool>());
    }

    [Fact]
    public void A_batch_sentAt_that_is_not_a_timestamp_is_named_on_each_event_that_takes_it()
    {
        var r = _reader.ReadBatch(Utf8("""{"sentAt":"yesterday","batch":[{"type":"track","event":"E","userId":"u"},{"type":"track","event":"E","userId":"u","sentAt":"2026-11-20T10:00:00Z"}]}"""));
        Assert.Equal(new FieldError("batch[0].sentAt", "sentAt must be an ISO-8601 timestamp such as 2026-11-20T10:15:30.622Z"), Assert.Single(r.Events[0].Errors));
        Assert.True(r.Events[1].IsValid);
    }

    [Fact]
    public void Escaped_property_names_are_the_fields_they_spell()
    {
        var r = _reader.ReadTrackingApiEvent(Utf8("""{"ty\u0070e":"TRACK","ev\u0065nt":"E","user\u0049d":8412,"write\u004Bey":"secret"}"""), CallTypes.Track);
        var e = Assert.Single(r.Events);
        Assert.True(e.IsValid, string.Join("; ", e.Errors));
        Assert.Equal("8412", e.Event!.UserId);
        Assert.Equal("E", e.Event.Event);
        Assert.DoesNotContain("secret", e.Event.ToJsonString());
        Assert.Equal("\"8412\"", e.Event.Json["userId"]!.ToJsonString());
    }

    [Fact]
    public void The_stored_json_keeps_every_field_and_matches_the_typed_view()
    {
        var r = _reader.ReadBatch(Fixtures.Bytes("tracking-api-batch.json"));
        foreach (var read in r.Events)
        {
            var e = read.Event!;
            var stored = SegmentEvent.FromStored(e.ToJsonString());
            Assert.Equal(e.ToJsonString(), stored.Json.ToJsonString());
            Assert.Equal((e.Type, e.MessageId, e.UserId, e.AnonymousId, e.Event, e.ReceivedAt),
                (stored.Type, stored.MessageId, stored.UserId, stored.AnonymousId, stored.Event, stored.ReceivedAt));
            Assert.Equal(e.Json.ToJsonString(), stored.Json.ToJsonString());
        }
    }

    [Fact]
    public void Merge_is_one_level_deep_only()
    {
        var r = _reader.ReadBatch(Utf8("""{"context":{"library":{"name":"http","version":"1"}},"batch":[{"type":"track","event":"E","userId":"u","context":{"library":{"name":"mine"}}}]}"""));
        Assert.Equal("""{"library":{"name":"mine"}}""", r.Events[0].Event!.Context!.ToJsonString());
    }

    [Fact]
    public void Partial_batch_reports_each_bad_event_with_its_index_and_generated_ids()
    {
        var r = _reader.ReadBatch(Utf8("""
            {"batch":[
              {"type":"track","event":"A","userId":"u","messageId":"ok-1"},
              {"type":"track","userId":"u","messageId":"bad-1"},
              {"type":"identify","anonymousId":"a"},
              7
            ]}
            """));
        Assert.True(r.EnvelopeIsValid);
        Assert.Equal([true, false, true, false], r.Events.Select(e => e.IsValid));
        Assert.Equal(new FieldError("batch[1].event", "track needs an event name"), Assert.Single(r.Events[1].Errors));
        Assert.Equal("bad-1", r.Events[1].MessageId);
        Assert.True(r.Events[2].MessageIdGenerated);
        Assert.Equal(new FieldError("batch[3]", "an event must be a JSON object, not a number"), Assert.Single(r.Events[3].Errors));
    }

    [Theory]
    [InlineData("[]", "body", "a batch body must be a JSON object with a \"batch\" array")]
    [InlineData("{}", "batch", "batch is required: an array of events")]
    [InlineData("""{"batch":{}}""", "batch", "batch must be an array of events")]
    [InlineData("""{"batch":[]}""", "batch", "batch has no events")]
    [InlineData("""{"batch":[{}],"context":[]}""", "context", "context must be an object")]
    [InlineData("""{"batch":[{}],"integrations":"x"}""", "integrations", "integrations must be an object")]
    [InlineData("""{"batch":[{}],"sentAt":5}""", "sentAt", "sentAt must be an ISO-8601 string")]
    [InlineData("""{"batch":[{}],"writeKey":5}""", "writeKey", "writeKey must be a string")]
    public void Bad_envelopes_reject_the_whole_batch(string body, string field, string message)
    {
        var r = _reader.ReadBatch(Utf8(body));
        Assert.Equal(new FieldError(field, message), Assert.Single(r.EnvelopeErrors));
        Assert.Empty(r.Events);
    }

    [Fact]
    public void Batch_over_2500_events_is_rejected()
    {
        var events = string.Join(",", Enumerable.Repeat("""{"type":"track","event":"E","userId":"u"}""", 2501));
        var r = _reader.ReadBatch(Utf8($$"""{"batch":[{{events}}]}"""));
        Assert.Equal(new FieldError("batch", "batch has 2501 events; the limit is 2,500 events per batch"), Assert.Single(r.EnvelopeErrors));
    }

    [Fact]
    public void Batch_over_500_KB_is_rejected()
    {
        var events = string.Join(",", Enumerable.Range(0, 20).Select(i => EventOfSize(26 * 1024, $"m{i}")));
        var r = _reader.ReadBatch(Utf8($$"""{"batch":[{{events}}]}"""));
        Assert.StartsWith("the body is 532,", Assert.Single(r.EnvelopeErrors).Message);
        Assert.EndsWith("bytes; the limit for a batch is 500 KB", r.EnvelopeErrors[0].Message);
    }

    [Fact]
    public void A_too_big_batch_element_is_rejected_on_its_own()
    {
        var r = _reader.ReadBatch(Utf8($$"""{"batch":[{{EventOfSize(32 * 1024 + 1, "big")}},{{EventOfSize(100, "small")}}]}"""));
        Assert.False(r.Events[0].IsValid);
        Assert.Equal("big", r.Events[0].MessageId);
        Assert.Equal(new FieldError("batch[0]", "the event is 32,769 bytes; the limit is 32 KB per event"), Assert.Single(r.Events[0].Errors));
        Assert.True(r.Events[1].IsValid);
    }

    [Fact]
    public void Webhook_single_event_and_array()
    {
        var single = _reader.ReadWebhook(Fixtures.Bytes("webhook-classic.body.json"));
        Assert.Equal(PayloadShape.Single, single.Shape);
        Assert.True(Assert.Single(single.Events).IsValid);

        var array = _reader.ReadWebhook(Fixtures.Bytes("webhooks-actions-batch.json"));
        Assert.Equal(PayloadShape.Batch, array.Shape);
        Assert.True(array.Events.Count >= 2);
        Assert.All(array.Events, e => Assert.True(e.IsValid));
    }

    [Fact]
    public void Webhook_event_limit_is_64_KB()
    {
        Assert.True(_reader.ReadWebhook(Utf8(EventOfSize(64 * 1024))).EnvelopeIsValid);
        var r = _reader.ReadWebhook(Utf8(EventOfSize(64 * 1024 + 1)));
        Assert.Equal("the body is 65,537 bytes; the limit for a webhook event is 64 KB", Assert.Single(r.EnvelopeErrors).Message);

        var array = _reader.ReadWebhook(Utf8($"[{EventOfSize(64 * 1024 + 1)},{EventOfSize(200)}]"));
        Assert.Equal(new FieldError("[0]", "the event is 65,537 bytes; the limit is 64 KB per event"), Assert.Single(array.Events[0].Errors));
        Assert.True(array.Events[1].IsValid);
    }

    [Fact]
    public void Webhook_array_over_4000_events_is_rejected()
    {
        var events = string.Join(",", Enumerable.Repeat("""{"type":"track","event":"E","userId":"u"}""", 4001));
        var r = _reader.ReadWebhook(Utf8($"[{events}]"));
        Assert.Equal("the array has 4001 events; the limit is 4,000 events per webhook request", Assert.Single(r.EnvelopeErrors).Message);
    }

    [Theory]
    [InlineData("\"just a string\"", "body", "an event must be a JSON object, not a string")]
    [InlineData("12", "body", "an event must be a JSON object, not a number")]
    public void Json_that_is_not_an_object_is_an_event_error(string body, string field, string message)
    {
        var r = _reader.ReadWebhook(Utf8(body));
        Assert.Equal(new FieldError(field, message), Assert.Single(Assert.Single(r.Events).Errors));
    }

    [Fact]
    public void Malformed_json_is_not_json()
    {
        var r = _reader.ReadBatch(Utf8("{\"batch\":["));
        Assert.False(r.IsJson);
        Assert.Equal("body", Assert.Single(r.EnvelopeErrors).Field);
    }
}
