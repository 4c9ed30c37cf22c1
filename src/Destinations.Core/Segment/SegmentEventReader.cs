using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FluentValidation;

namespace Destinations.Core.Segment;

/// <summary>
/// Turns one JSON value of a request into a normalised <see cref="SegmentEvent"/> or the field errors that reject it
/// (docs/ingress.md "The event", D3). Pure apart from the clock and the messageIds it generates. Over a parsed document (the
/// long way, which every error answer comes from): one pass over the event's properties finds the fields the rules need; a
/// second writes the normalised event (write key dropped, type lower-cased or implied by the path, numeric ids as strings,
/// the batch envelope merged, messageId and receivedAt filled) straight to UTF-8 with a reused writer. A body whose events
/// are all valid and need no merge is read without a document, in one pass over its bytes (SegmentEventReader.OnePass.cs).
/// </summary>
public sealed partial class SegmentEventReader(IValidator<SegmentEvent> validator, TimeProvider clock)
{
    public SegmentEventReader() : this(new SegmentEventValidator(), TimeProvider.System) { }

    /// <summary>Reads a DOM (tests, tools): the same rules as a request body.</summary>
    /// <param name="node">The event as parsed.</param>
    /// <param name="index">Its position in a batch or array (0 for a single event).</param>
    /// <param name="impliedType">On <c>/v1/&lt;type&gt;</c> the path decides the type; a contradicting body type is overwritten (D3).</param>
    /// <param name="fieldPrefix">Prefixed to field names in errors, e.g. <c>batch[3].</c>.</param>
    public EventReadResult Read(JsonNode? node, int index = 0, string? impliedType = null, string fieldPrefix = "")
    {
        using var document = JsonDocument.Parse(node is null ? "null"u8.ToArray() : JsonSerializer.SerializeToUtf8Bytes(node));
        return Read(document.RootElement, index, impliedType, fieldPrefix, null);
    }

    /// <summary>Reads one event of a request; <paramref name="envelope"/> is the batch it came in (merged per D3), if any.</summary>
    public EventReadResult Read(JsonElement json, int index, string? impliedType, string fieldPrefix, BatchEnvelope? envelope)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            var field = fieldPrefix.Length > 0 ? fieldPrefix.TrimEnd('.') : FieldError.Body;
            return EventReadResult.Invalid(index, null, [new FieldError(field, $"an event must be a JSON object, not {Kind(json)}")]);
        }

        var f = Fields.Find(json);
        List<FieldError>? errors = null;
        void Error(string field, string message) => (errors ??= []).Add(new FieldError(fieldPrefix + field, message));

        string? type = impliedType;
        if (type is null && f[Fields.Type].ValueKind is var typeKind and not JsonValueKind.Undefined)
        {
            if (typeKind == JsonValueKind.String) type = f[Fields.Type].GetString()!.ToLowerInvariant();
            else Error("type", $"type must be a string, not {Kind(f[Fields.Type])}");
        }
        var userId = Id(f, Fields.UserId, "userId", Error);
        var anonymousId = Id(f, Fields.AnonymousId, "anonymousId", Error);
        var groupId = Id(f, Fields.GroupId, "groupId", Error);
        var previousId = Id(f, Fields.PreviousId, "previousId", Error);
        for (var i = Fields.Traits; i <= Fields.Integrations; i++)
            if (f[i].ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Object))
                Error(Fields.Names[i], $"{Fields.Names[i]} must be an object, not {Kind(f[i])}");
        for (var i = Fields.Event; i <= Fields.Channel; i++)
            if (f[i].ValueKind is not (JsonValueKind.Undefined or JsonValueKind.String))
                Error(Fields.Names[i], $"{Fields.Names[i]} must be a string, not {Kind(f[i])}");
        for (var i = Fields.Timestamp; i <= Fields.ReceivedAt; i++) RequireTimestamp(f[i], Fields.Names[i], Error);
        // An event without sentAt takes the batch's (D3), so the batch's is checked as the event's own would be.
        if (f[Fields.SentAt].ValueKind == JsonValueKind.Undefined && envelope is { SentAt.ValueKind: JsonValueKind.String })
            RequireTimestamp(envelope.SentAt, "sentAt", Error);
        if (f[Fields.Version].ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Number or JsonValueKind.String))
            Error("version", $"version must be a number or a string, not {Kind(f[Fields.Version])}");

        var messageId = f[Fields.MessageId].ValueKind == JsonValueKind.String ? f[Fields.MessageId].GetString() : null;
        if (messageId is { Length: > IngressLimits.MessageIdMaxLength })
            Error("messageId", $"messageId is {messageId.Length} characters; the limit is {IngressLimits.MessageIdMaxLength}");
        // U+0000 (only reachable as the escape \u0000) is valid JSON, but these fields are stored and compared as text and
        // PostgreSQL text cannot hold it: the event is refused here rather than failing the group commit of every event with it.
        foreach (var i in NulChecked)
            if (HasNul(f[i]) && !(i == Fields.Type && impliedType is not null)) // an implied type replaces the body's
                Error(Fields.Names[i], $"{Fields.Names[i]} contains the NUL character (\\u0000), which cannot be stored as text");
        if (errors is not null) return EventReadResult.Invalid(index, Truncate(messageId), errors);

        // The HTTP Tracking API allows a missing messageId: generate one and report it (D2).
        var generated = string.IsNullOrEmpty(messageId);
        if (generated) messageId = NewMessageId();
        var receivedAt = f[Fields.ReceivedAt].ValueKind == JsonValueKind.String ? f[Fields.ReceivedAt].GetString() : Iso(clock.GetUtcNow());

        var (utf8, integrations) = NormalisedWriter.Write(json, f, envelope, type, impliedType is not null, generated ? messageId! : null,
            f[Fields.ReceivedAt].ValueKind == JsonValueKind.String ? null : receivedAt);
        var e = new SegmentEvent(utf8, integrations, new SegmentEvent.EventFields(type ?? "", messageId!, userId, anonymousId, groupId,
            previousId, Str(f, Fields.Event), Str(f, Fields.Name), Str(f, Fields.Category), receivedAt));
        var validation = validator.Validate(e);
        if (!validation.IsValid)
        {
            var invalid = new List<FieldError>(validation.Errors.Count);
            foreach (var v in validation.Errors) invalid.Add(new FieldError(fieldPrefix + v.PropertyName, v.ErrorMessage));
            return EventReadResult.Invalid(index, generated ? null : messageId, invalid);
        }
        return EventReadResult.Valid(index, e, generated);
    }

    string NewMessageId() => "ingress-" + Guid.CreateVersion7(clock.GetUtcNow()).ToString("N");

    /// <summary><c>yyyy-MM-ddTHH:mm:ss.fffZ</c> in UTC (every accepted event gets one: written digit by digit, not through a
    /// format string).</summary>
    public static string Iso(DateTimeOffset t)
    {
        var u = t.UtcDateTime;
        return string.Create(24, u, static (c, u) =>
        {
            Digits(c[..4], u.Year);
            c[4] = '-';
            Digits(c.Slice(5, 2), u.Month);
            c[7] = '-';
            Digits(c.Slice(8, 2), u.Day);
            c[10] = 'T';
            Digits(c.Slice(11, 2), u.Hour);
            c[13] = ':';
            Digits(c.Slice(14, 2), u.Minute);
            c[16] = ':';
            Digits(c.Slice(17, 2), u.Second);
            c[19] = '.';
            Digits(c.Slice(20, 3), u.Millisecond);
            c[23] = 'Z';
        });
    }

    static void Digits(Span<char> into, int value)
    {
        for (var i = into.Length - 1; i >= 0; i--, value /= 10) into[i] = (char)('0' + value % 10);
    }

    /// <summary>D3: a string id as is, a number as the text it was written with (8412 → "8412"); objects and arrays are a 400.</summary>
    static string? Id(Fields f, int i, string field, Action<string, string> error)
    {
        var value = f[i];
        switch (value.ValueKind)
        {
            case JsonValueKind.String: return value.GetString();
            case JsonValueKind.Number: return value.GetRawText();
            case JsonValueKind.Undefined: return null;
            default: error(field, $"{field} must be a string or a number, not {Kind(value)}"); return null;
        }
    }

    static readonly int[] NulChecked =
    [
        Fields.Type, Fields.MessageId, Fields.UserId, Fields.AnonymousId, Fields.GroupId, Fields.PreviousId,
        Fields.Event, Fields.Name, Fields.Category, Fields.Channel,
    ];

    /// <summary>A string value holding U+0000; only an escaped string can, so the common case is one search for a backslash.</summary>
    static bool HasNul(JsonElement value) =>
        value.ValueKind == JsonValueKind.String && JsonMarshal.GetRawUtf8Value(value).IndexOf((byte)'\\') >= 0
        && value.GetString()!.Contains('\0', StringComparison.Ordinal);

    static string? Str(Fields f, int i) => f[i].ValueKind == JsonValueKind.String ? f[i].GetString() : null;

    static void RequireTimestamp(JsonElement value, string field, Action<string, string> error)
    {
        if (value.ValueKind == JsonValueKind.Undefined) return;
        if (value.ValueKind != JsonValueKind.String) { error(field, $"{field} must be an ISO-8601 string, not {Kind(value)}"); return; }
        if (IsUtcMilliseconds(JsonMarshal.GetRawUtf8Value(value)[1..^1])) return; // the raw value has its quotes
        var s = value.GetString()!;
        if (!IsoTimestamp().IsMatch(s) || !DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
            error(field, $"{field} must be an ISO-8601 timestamp such as 2026-11-20T10:15:30.622Z");
    }

    /// <summary>
    /// The form nearly every library sends (<c>2026-11-20T10:15:30.622Z</c>, what <c>toISOString()</c> writes), checked on the
    /// raw bytes without making a string: it matches the pattern below, so it is valid exactly when it names a real instant
    /// (year 1–9999, a day the month has, a time of day). Any other form takes the general check.
    /// </summary>
    static bool IsUtcMilliseconds(ReadOnlySpan<byte> raw)
    {
        if (raw.Length != 24 || raw[4] != '-' || raw[7] != '-' || raw[10] != 'T' || raw[13] != ':' || raw[16] != ':'
            || raw[19] != '.' || raw[23] != 'Z') return false;
        foreach (var at in DigitPositions)
            if (!char.IsAsciiDigit((char)raw[at])) return false;
        var year = Number(raw, 0, 4);
        var month = Number(raw, 5, 2);
        return year >= 1 && month is >= 1 and <= 12 && Number(raw, 8, 2) is var day && day >= 1 && day <= DateTime.DaysInMonth(year, month)
            && Number(raw, 11, 2) < 24 && Number(raw, 14, 2) < 60 && Number(raw, 17, 2) < 60;
    }

    static readonly int[] DigitPositions = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];

    static int Number(ReadOnlySpan<byte> raw, int start, int length)
    {
        var n = 0;
        foreach (var b in raw.Slice(start, length)) n = n * 10 + (b - '0');
        return n;
    }

    static string? Truncate(string? messageId) =>
        messageId is { Length: > IngressLimits.MessageIdMaxLength } ? messageId[..IngressLimits.MessageIdMaxLength] : messageId;

    internal static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoTimestamp();
}
