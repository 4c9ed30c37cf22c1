using System.Text;
using Destinations.Core.Segment;

namespace Destinations.Core.Tests.Segment;

/// <summary>
/// Strings whose escapes are not valid UTF-16 (a lone high or low surrogate) are invalid input: the event holding one is
/// rejected naming the field, never an exception (a 500) and never altered to U+FFFD. U+0000 in a field stored as text is
/// rejected the same way.
/// </summary>
public class InvalidTextTests
{
    readonly SegmentPayloadReader _reader = new(new SegmentEventReader(new SegmentEventValidator(), new FixedClock()));

    static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    [Theory]
    [InlineData(@"\ud800", true)]
    [InlineData(@"\udc00", true)]
    [InlineData(@"\uDFFF", true)]
    [InlineData(@"a\ud800b", true)]
    [InlineData(@"\ud800\u0041", true)]
    [InlineData(@"\ud800\ud800", true)]
    [InlineData(@"\ud800\n", true)]
    [InlineData(@"\ud800\\udc00", true)]
    [InlineData(@"x\udc00\ud800", true)]
    [InlineData(@"\ud83d\ude00", false)]
    [InlineData(@"\uD83D\uDE00", false)]
    [InlineData(@"\uDBFF\uDFFF", false)]
    [InlineData(@"\\ud800", false)]
    [InlineData(@"\u0000\u00e9\/\b\f\n\r\t\""", false)]
    [InlineData(@"\ud83d\ude00\ud800", true)]
    public void Escapes_are_checked_for_valid_utf16(string raw, bool invalid) =>
        Assert.Equal(invalid, InvalidText.HasInvalidEscape(Encoding.ASCII.GetBytes(raw)));

    [Theory]
    [InlineData("""{"event":"E","userId":"\ud800"}""", "userId")]
    [InlineData("""{"event":"E","userId":"u","properties":{"note":"\udc00"}}""", "properties.note")]
    [InlineData("""{"event":"E","userId":"u","properties":{"a":{"b":{"c":"x\ud800y"}}}}""", "properties.a.b.c")]
    [InlineData("""{"event":"E","userId":"u","properties":{"list":["ok",{"k":"\ud800\u0041"}]}}""", "properties.list[1].k")]
    [InlineData("""{"event":"E","userId":"u","properties":{"list":["ok","\udbff"]}}""", "properties.list[1]")]
    [InlineData("""{"event":"E","userId":"u","properties":{"a":{"\ud800":1}}}""", "properties.a")]
    [InlineData("""{"event":"E","userId":"u","\udc00":true}""", "body")]
    [InlineData("""{"event":"E","userId":"u","context":{"\ud800":{"x":"\ud800"}}}""", "context")]
    public void A_single_event_with_invalid_text_is_a_400_naming_the_field(string body, string field)
    {
        var r = _reader.ReadTrackingApiEvent(Utf8(body), CallTypes.Track);
        Assert.False(r.EnvelopeIsValid);
        Assert.False(r.IsJson);
        Assert.Contains(field, r.EnvelopeErrors.Select(e => e.Field));
        Assert.All(r.EnvelopeErrors, e => Assert.Contains("unpaired UTF-16 surrogate", e.Message));

        var webhook = _reader.ReadWebhook(Utf8(body.Replace("{\"event\"", "{\"type\":\"track\",\"event\"")));
        Assert.Contains(field, webhook.EnvelopeErrors.Select(e => e.Field));
    }

    [Fact]
    public void A_property_name_error_says_it_is_a_name()
    {
        var r = _reader.ReadTrackingApiEvent(Utf8("""{"event":"E","userId":"u","traits":{"\ud800":1}}"""), CallTypes.Identify);
        var error = Assert.Single(r.EnvelopeErrors);
        Assert.Equal("traits", error.Field);
        Assert.Equal("a property name in traits is not valid Unicode: it has an unpaired UTF-16 surrogate escape (such as \\ud800)", error.Message);
    }

    [Fact]
    public void In_a_batch_only_the_event_with_invalid_text_is_rejected()
    {
        var r = _reader.ReadBatch(Utf8("""
            {"batch":[
              {"type":"track","event":"E","userId":"u","messageId":"ok-0"},
              {"type":"track","event":"E","userId":"u","messageId":"bad-1","properties":{"deep":[{"x":"\ud800"}]}},
              {"type":"identify","userId":"u","messageId":"bad-2","traits":{"\udc00":1}},
              {"type":"track","event":"\ud800","userId":"u","messageId":"\udc00"},
              {"type":"track","event":"E","userId":"u","messageId":"ok-4","properties":{"smile":"\ud83d\ude00"}}
            ]}
            """));
        Assert.True(r.EnvelopeIsValid);
        Assert.Equal([true, false, false, false, true], r.Events.Select(e => e.IsValid));
        Assert.Equal(["batch[1].properties.deep[0].x"], r.Events[1].Errors.Select(e => e.Field));
        Assert.Equal("bad-1", r.Events[1].MessageId);
        Assert.Equal(["batch[2].traits"], r.Events[2].Errors.Select(e => e.Field));
        Assert.Equal(["batch[3].event", "batch[3].messageId"], r.Events[3].Errors.Select(e => e.Field));
        Assert.Null(r.Events[3].MessageId);
        Assert.Equal("😀", r.Events[4].Event!.Json["properties"]!["smile"]!.GetValue<string>());
    }

    [Fact]
    public void Invalid_text_in_the_batch_envelope_rejects_the_request()
    {
        var r = _reader.ReadBatch(Utf8("""{"context":{"ip":"\ud800"},"batch":[{"type":"track","event":"E","userId":"u"}]}"""));
        Assert.Equal(["context.ip"], r.EnvelopeErrors.Select(e => e.Field));
        r = _reader.ReadBatch(Utf8("""{"\ud800":1,"batch":[{"type":"track","event":"E","userId":"u"}]}"""));
        Assert.Equal(["body"], r.EnvelopeErrors.Select(e => e.Field));
        r = _reader.ReadBatch(Utf8("""{"writeKey":"\udc00","batch":[{"type":"track","event":"E","userId":"u"}]}"""));
        Assert.Equal(["writeKey"], r.EnvelopeErrors.Select(e => e.Field));
    }

    [Fact]
    public void In_a_webhook_array_only_the_element_with_invalid_text_is_rejected()
    {
        byte[] body = [0xEF, 0xBB, 0xBF, .. Utf8("""
            [{"type":"identify","userId":"u","messageId":"a","traits":{"name":"Ada"}},
             {"type":"identify","userId":"u","messageId":"b","traits":{"name":"\ud800"}},
             "not an event"]
            """)];
        var r = _reader.ReadWebhook(body);
        Assert.Equal([true, false, false], r.Events.Select(e => e.IsValid));
        Assert.Equal(["[1].traits.name"], r.Events[1].Errors.Select(e => e.Field));
        Assert.Equal("b", r.Events[1].MessageId);
    }

    [Fact]
    public void Duplicate_keys_are_still_found_in_a_body_with_invalid_text()
    {
        var r = _reader.ReadBatch(Utf8("""{"batch":[{"type":"track","event":"\ud800","userId":"u"},{"type":"track","p":{"a":1,"\u0061":2}}]}"""));
        Assert.Equal(["the body is not valid JSON: an object has the same key twice"], r.EnvelopeErrors.Select(e => e.Message));
    }

    [Fact]
    public void The_plain_parse_calls_invalid_text_a_body_error()
    {
        Assert.False(JsonBody.TryParse(Utf8("""{"a":["\ud800"]}"""), out var document, out var error));
        Assert.Null(document);
        Assert.Equal(FieldError.Body, error!.Field);
    }

    [Theory]
    [InlineData("userId")]
    [InlineData("anonymousId")]
    [InlineData("messageId")]
    [InlineData("event")]
    [InlineData("groupId")]
    public void Nul_in_a_text_field_rejects_the_event(string field)
    {
        var json = $$"""{"type":"track","event":"E","userId":"u","anonymousId":"a","groupId":"g","messageId":"m"}""";
        json = json.Replace($"\"{field}\":\"", $"\"{field}\":\"x\\u0000");
        var single = _reader.ReadTrackingApiEvent(Utf8(json), CallTypes.Track);
        var e = Assert.Single(single.Events);
        Assert.False(e.IsValid);
        Assert.Equal([field], e.Errors.Select(x => x.Field));

        var batch = _reader.ReadBatch(Utf8($$"""{"batch":[{"type":"track","event":"E","userId":"u"},{{json}}]}"""));
        Assert.Equal([true, false], batch.Events.Select(x => x.IsValid));
        Assert.Equal(["batch[1]." + field], batch.Events[1].Errors.Select(x => x.Field));
    }

    [Fact]
    public void Nul_elsewhere_is_kept_as_sent()
    {
        var r = _reader.ReadTrackingApiEvent(Utf8("""{"event":"E","userId":"u","properties":{"n":"a\u0000b","\u0000":1}}"""), CallTypes.Track);
        var e = Assert.Single(r.Events);
        Assert.True(e.IsValid);
        Assert.Equal("a\0b", e.Event!.Json["properties"]!["n"]!.GetValue<string>());
        Assert.Contains("\\u0000", e.Event.ToJsonString());
    }

    [Fact]
    public void An_escaped_backslash_before_u0000_is_not_nul()
    {
        var r = _reader.ReadTrackingApiEvent(Utf8("""{"event":"E","userId":"a\\u0000"}"""), CallTypes.Track);
        Assert.True(Assert.Single(r.Events).IsValid);
    }

    [Fact]
    public void Many_invalid_strings_are_named_up_to_twenty_then_counted()
    {
        var values = string.Join(",", Enumerable.Range(0, 50).Select(i => $"\"k{i}\":\"\\ud800\""));
        var r = _reader.ReadTrackingApiEvent(Utf8("""{"event":"E","userId":"u","properties":{""" + values + "} }"), CallTypes.Track);
        Assert.Equal(21, r.EnvelopeErrors.Count);
        Assert.Equal("properties.k19", r.EnvelopeErrors[19].Field);
        Assert.Equal(new FieldError("properties.k20", "and 30 more strings that are not valid Unicode"), r.EnvelopeErrors[20]);
    }
}
