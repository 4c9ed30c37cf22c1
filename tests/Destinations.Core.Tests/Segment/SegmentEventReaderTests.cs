using System.Text.Json.Nodes;
using Destinations.Core.Segment;

namespace Destinations.Core.Tests.Segment;

public class SegmentEventReaderTests
{
    readonly SegmentEventReader _reader = new(new SegmentEventValidator(), new FixedClock());

    EventReadResult Read(string json, string? impliedType = null) => _reader.Read(JsonNode.Parse(json), 0, impliedType);

    static FieldError Single(EventReadResult r) => Assert.Single(r.Errors);

    [Theory]
    [InlineData("track.json", "track")]
    [InlineData("identify.json", "identify")]
    [InlineData("page-named.json", "page")]
    [InlineData("page-unnamed.json", "page")]
    [InlineData("screen.json", "screen")]
    [InlineData("group.json", "group")]
    [InlineData("group-anonymous.json", "group")]
    [InlineData("alias.json", "alias")]
    [InlineData("delete.json", "delete")] // D4: accepted, filtered later by the router
    [InlineData("engage-audience-identify.json", "identify")]
    [InlineData("engage-audience-entered.json", "track")]
    public void Every_fixture_call_type_reads_as_valid(string fixture, string type)
    {
        var r = _reader.Read(Fixtures.Object(fixture));
        Assert.True(r.IsValid, string.Join("; ", r.Errors));
        Assert.Equal(type, r.Event!.Type);
        Assert.False(r.MessageIdGenerated);
    }

    [Fact]
    public void Type_is_lower_cased()
    {
        var r = Read("""{"type":"TRACK","event":"E","userId":"u","messageId":"m1"}""");
        Assert.Equal("track", r.Event!.Type);
        Assert.Equal("track", r.Event.Json["type"]!.GetValue<string>());
    }

    [Fact]
    public void Path_type_overwrites_a_contradicting_body_type_D3()
    {
        var r = Read("""{"type":"identify","event":"E","userId":"u","messageId":"m1"}""", CallTypes.Track);
        Assert.True(r.IsValid);
        Assert.Equal("track", r.Event!.Type);
    }

    [Fact]
    public void Numeric_ids_are_coerced_to_strings_D3()
    {
        var r = _reader.Read(Fixtures.Object("track-numeric-userid.json"));
        Assert.True(r.IsValid);
        Assert.Equal("8412", r.Event!.UserId);
        Assert.Equal("\"8412\"", r.Event.Json["userId"]!.ToJsonString());

        var g = Read("""{"type":"group","groupId":77,"anonymousId":12.5,"messageId":"m"}""");
        Assert.Equal("77", g.Event!.GroupId);
        Assert.Equal("12.5", g.Event.AnonymousId);
    }

    [Theory]
    [InlineData("userId", """{"id":1}""", "userId must be a string or a number, not an object")]
    [InlineData("anonymousId", "[1]", "anonymousId must be a string or a number, not an array")]
    [InlineData("previousId", "true", "previousId must be a string or a number, not a boolean")]
    public void Object_or_array_ids_are_rejected_naming_the_field_D3(string field, string value, string message)
    {
        var r = Read($$"""{"type":"alias","{{field}}":{{value}},"messageId":"m"}""");
        var e = Single(r);
        Assert.Equal(field, e.Field);
        Assert.Equal(message, e.Message);
        Assert.Equal("m", r.MessageId);
    }

    [Theory]
    [InlineData("traits", "\"x\"", "traits must be an object, not a string")]
    [InlineData("properties", "[]", "properties must be an object, not an array")]
    [InlineData("context", "1", "context must be an object, not a number")]
    [InlineData("integrations", "true", "integrations must be an object, not a boolean")]
    [InlineData("event", "{}", "event must be a string, not an object")]
    [InlineData("name", "5", "name must be a string, not a number")]
    [InlineData("category", "[]", "category must be a string, not an array")]
    [InlineData("messageId", "5", "messageId must be a string, not a number")]
    [InlineData("timestamp", "1700000000", "timestamp must be an ISO-8601 string, not a number")]
    [InlineData("sentAt", "\"yesterday\"", "sentAt must be an ISO-8601 timestamp such as 2026-11-20T10:15:30.622Z")]
    [InlineData("originalTimestamp", "\"11/20/2026\"", "originalTimestamp must be an ISO-8601 timestamp such as 2026-11-20T10:15:30.622Z")]
    [InlineData("version", "{}", "version must be a number or a string, not an object")]
    [InlineData("type", "1", "type must be a string, not a number")]
    public void Wrong_types_on_known_fields_name_the_field(string field, string value, string message)
    {
        // Structural errors are reported alone: the semantic rules run only on a well-typed event.
        var r = Read($$"""{"{{field}}":{{value}}}""");
        var e = Single(r);
        Assert.Equal(field, e.Field);
        Assert.Equal(message, e.Message);
        Assert.Null(r.Event);
    }

    /// <summary>The common millisecond UTC form is checked on its bytes; it must give the verdict of the general check.</summary>
    [Theory]
    [InlineData("2026-11-20T10:15:30.622Z", true)]
    [InlineData("2024-02-29T23:59:59.999Z", true)]
    [InlineData("0001-01-01T00:00:00.000Z", true)]
    [InlineData("9999-12-31T23:59:59.999Z", true)]
    [InlineData("2026-11-20T10:15:30.622+01:00", true)] // another form: the general check
    [InlineData("2026-11-20 10:15", true)]
    [InlineData("2025-02-29T10:15:30.622Z", false)]
    [InlineData("2026-04-31T10:15:30.622Z", false)]
    [InlineData("2026-13-20T10:15:30.622Z", false)]
    [InlineData("2026-00-20T10:15:30.622Z", false)]
    [InlineData("2026-11-00T10:15:30.622Z", false)]
    [InlineData("0000-11-20T10:15:30.622Z", false)]
    [InlineData("2026-11-20T24:00:00.000Z", false)]
    [InlineData("2026-11-20T10:60:30.622Z", false)]
    [InlineData("2026-11-20T10:15:60.622Z", false)]
    [InlineData("2026-11-20T10:15:30.6a2Z", false)]
    [InlineData("2026-11-20X10:15:30.622Z", false)]
    public void A_timestamp_is_valid_exactly_when_it_names_an_instant(string timestamp, bool valid)
    {
        var r = Read($$"""{"type":"track","event":"E","userId":"u","timestamp":"{{timestamp}}"}""");
        Assert.Equal(valid, r.IsValid);
        Assert.Equal(valid, DateTimeOffset.TryParse(timestamp, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out _));
        if (!valid) Assert.Equal("timestamp must be an ISO-8601 timestamp such as 2026-11-20T10:15:30.622Z", Single(r).Message);
    }

    [Theory]
    [InlineData("2026-11-20T10:15:30.622Z")]
    [InlineData("2026-11-20T10:15:30+01:00")]
    [InlineData("2026-11-20")]
    public void Iso_timestamps_are_accepted(string ts)
    {
        Assert.True(Read($$"""{"type":"track","event":"E","userId":"u","timestamp":"{{ts}}"}""").IsValid);
    }

    [Fact]
    public void MessageId_over_100_characters_is_rejected()
    {
        var r = Read($$"""{"type":"track","event":"E","userId":"u","messageId":"{{new string('m', 101)}}"}""");
        var e = Single(r);
        Assert.Equal("messageId", e.Field);
        Assert.Equal("messageId is 101 characters; the limit is 100", e.Message);
        Assert.True(Read($$"""{"type":"track","event":"E","userId":"u","messageId":"{{new string('m', 100)}}"}""").IsValid);
    }

    [Fact]
    public void Missing_messageId_is_generated_and_reported_D2()
    {
        var r = Read("""{"type":"track","event":"E","userId":"u"}""");
        Assert.True(r.IsValid);
        Assert.True(r.MessageIdGenerated);
        Assert.StartsWith("ingress-", r.MessageId);
        Assert.Equal(r.MessageId, r.Event!.Json["messageId"]!.GetValue<string>());
        Assert.NotEqual(r.MessageId, Read("""{"type":"track","event":"E","userId":"u"}""").MessageId);
    }

    [Fact]
    public void ReceivedAt_is_set_from_the_clock_when_absent_and_kept_when_present()
    {
        Assert.Equal("2026-11-22T09:30:00.123Z", Read("""{"type":"track","event":"E","userId":"u"}""").Event!.StringAt("receivedAt"));
        Assert.Equal("2026-11-20T10:15:31.002Z", _reader.Read(Fixtures.Object("track.json")).Event!.StringAt("receivedAt"));
    }

    [Fact]
    public void Unknown_fields_are_kept_and_writeKey_is_not()
    {
        var r = Read("""{"type":"track","event":"E","userId":"u","_metadata":{"jsRuntime":"node"},"custom":[1,2],"writeKey":"secret-key"}""");
        Assert.Equal("""{"jsRuntime":"node"}""", r.Event!.Json["_metadata"]!.ToJsonString());
        Assert.Equal("[1,2]", r.Event.Json["custom"]!.ToJsonString());
        Assert.False(r.Event.Json.ContainsKey("writeKey"));
    }

    [Theory]
    [InlineData("""{"type":"identify","messageId":"m"}""", "userId", "identify needs a userId or an anonymousId")]
    [InlineData("""{"type":"page","userId":"","messageId":"m"}""", "userId", "page needs a userId or an anonymousId")]
    [InlineData("""{"type":"screen","messageId":"m"}""", "userId", "screen needs a userId or an anonymousId")]
    [InlineData("""{"type":"track","userId":"u","messageId":"m"}""", "event", "track needs an event name")]
    [InlineData("""{"type":"group","userId":"u","messageId":"m"}""", "groupId", "group needs a groupId")]
    [InlineData("""{"type":"alias","userId":"u","messageId":"m"}""", "previousId", "alias needs a previousId")]
    [InlineData("""{"type":"alias","previousId":"p","anonymousId":"a","messageId":"m"}""", "userId", "alias needs a userId")]
    [InlineData("""{"userId":"u","messageId":"m"}""", "type", "type is required")]
    [InlineData("""{"type":"purchase","userId":"u","messageId":"m"}""", "type", "type 'purchase' is not a Segment call type (one of alias, delete, group, identify, page, screen, track)")]
    public void Semantic_rules_name_the_field(string json, string field, string message)
    {
        var r = Read(json);
        var e = Single(r);
        Assert.Equal(field, e.Field);
        Assert.Equal(message, e.Message);
        Assert.Equal("m", r.MessageId);
    }

    [Fact]
    public void Anonymous_only_events_are_valid() =>
        Assert.True(Read("""{"type":"track","event":"E","anonymousId":"a"}""").IsValid);

    [Fact]
    public void Field_errors_carry_the_prefix_and_a_non_object_is_named_by_it()
    {
        var r = _reader.Read(JsonNode.Parse("""{"type":"track","userId":{}}"""), 3, null, "batch[3].");
        Assert.Equal("batch[3].userId", Single(r).Field);
        Assert.Equal(3, r.Index);
        var notObject = _reader.Read(JsonNode.Parse("\"hello\""), 2, null, "batch[2].");
        Assert.Equal(new FieldError("batch[2]", "an event must be a JSON object, not a string"), Single(notObject));
        Assert.Equal(new FieldError("body", "an event must be a JSON object, not a number"), Single(_reader.Read(JsonNode.Parse("42"))));
    }
}
