using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Destinations.Core.Segment;

/// <summary>
/// The common case in one pass: a well-formed body whose events are all valid is scanned once (<see cref="BodyScanner"/>)
/// and each event's normalised JSON is written from the recorded positions — what the document-based path writes, byte for
/// byte (values the writer would write unchanged are copied as received; any other value is written token by token as
/// <see cref="JsonElement.WriteTo"/> writes it). Nothing is allocated per event beyond the stored copy, the typed fields
/// and the validator's result. At the first thing that is not the common case — an invalid event, a merge, an escaped
/// field — it gives up and the caller reads the body the long way, which finds every error with its exact message: so the
/// error answers have one definition.
/// </summary>
public sealed partial class SegmentEventReader
{
    [ThreadStatic] static ArrayBufferWriter<byte>? t_output;
    [ThreadStatic] static Utf8JsonWriter? t_tokens;
    [ThreadStatic] static (long Millisecond, string Text) t_receivedAt;

    /// <summary>The whole body read in one pass, or null: read it the long way.</summary>
    internal PayloadReadResult? TryReadInOnePass(ReadOnlyMemory<byte> body, BodyForm form, string? impliedType)
    {
        var json = body[(body.Length - JsonBody.WithoutBom(body.Span).Length)..];
        if (!Utf8.IsValid(json.Span) || JsonBody.MayHoldSurrogateEscape(json.Span)) return null;
        var scan = BodyScanner.ForThisThread();
        try
        {
            return scan.Scan(json.Span, form) ? Read(body, json, scan, form, impliedType) : null;
        }
        finally
        {
            scan.Done();
        }
    }

    PayloadReadResult? Read(ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> json, BodyScanner scan, BodyForm form, string? impliedType)
    {
        var array = form == BodyForm.Batch || scan.RootIsArray;
        var limit = form == BodyForm.Webhook ? IngressLimits.WebhookEventBytes : IngressLimits.TrackingApiEventBytes;
        if (!array && body.Length > limit) return null;
        if (scan.RootIsArray && scan.EventCount is 0 or > IngressLimits.WebhookArrayEvents) return null;

        var results = new EventReadResult[scan.EventCount];
        for (var i = 0; i < results.Length; i++)
        {
            ref var e = ref scan.Event(i);
            if (array && e.End - e.Start > limit) return null;
            if (Read(json, scan, ref e, i, impliedType) is not { } read) return null;
            results[i] = read;
        }
        return new(array ? PayloadShape.Batch : PayloadShape.Single, true, scan.WriteKey, [], results);
    }

    EventReadResult? Read(ReadOnlyMemory<byte> body, BodyScanner scan, ref ScannedEvent e, int index, string? impliedType)
    {
        var json = body.Span;
        string type;
        if (impliedType is not null) type = impliedType;
        else if (Slot(scan, ref e, Fields.Type) is { } t && KnownType(t, json) is { } known) type = known;
        else return null;
        if (!Id(scan, ref e, Fields.UserId, json, out var userId) || !Id(scan, ref e, Fields.AnonymousId, json, out var anonymousId)
            || !Id(scan, ref e, Fields.GroupId, json, out var groupId) || !Id(scan, ref e, Fields.PreviousId, json, out var previousId))
            return null;
        for (var i = Fields.Traits; i <= Fields.Integrations; i++)
            if (Slot(scan, ref e, i) is { } p && p.Kind != JsonTokenType.StartObject) return null;
        for (var i = Fields.Event; i <= Fields.Channel; i++)
            if (Slot(scan, ref e, i) is { } p && (p.Kind != JsonTokenType.String || p.Escaped)) return null;
        for (var i = Fields.Timestamp; i <= Fields.ReceivedAt; i++)
            if (Slot(scan, ref e, i) is { } p && (p.Kind != JsonTokenType.String || p.Escaped || !IsTimestamp(Content(json, p.ValueStart, p.ValueLength))))
                return null;
        var envelopeSentAt = scan.EnvelopeSentAt;
        if (Slot(scan, ref e, Fields.SentAt) is null && envelopeSentAt.End.Value > 0)
        {
            var (start, length) = envelopeSentAt.GetOffsetAndLength(json.Length);
            if (!IsTimestamp(Content(json, start, length))) return null;
        }
        if (Slot(scan, ref e, Fields.Version) is { Kind: not (JsonTokenType.Number or JsonTokenType.String) }) return null;

        var messageId = Text(scan, ref e, Fields.MessageId, json);
        if (messageId is { Length: > IngressLimits.MessageIdMaxLength }) return null;
        var generated = string.IsNullOrEmpty(messageId);
        if (generated) messageId = NewMessageId();
        var received = Slot(scan, ref e, Fields.ReceivedAt) is null;
        var receivedAt = received ? ReceivedNow() : Text(scan, ref e, Fields.ReceivedAt, json);

        var written = Write(body, scan, ref e, type, impliedType is not null, generated ? messageId : null, received ? receivedAt : null);
        if (written is null) return null;
        var (utf8, integrations) = written.Value;
        var ev = new SegmentEvent(utf8, integrations, new SegmentEvent.EventFields(type, messageId!, userId, anonymousId, groupId, previousId,
            Text(scan, ref e, Fields.Event, json), Text(scan, ref e, Fields.Name, json), Text(scan, ref e, Fields.Category, json), receivedAt));
        return validator.Validate(ev).IsValid ? EventReadResult.Valid(index, ev, generated) : null;
    }

    /// <summary>Writes the event as <see cref="NormalisedWriter.Write"/> does (the batch envelope has nothing to merge here
    /// but its sentAt); null when a top-level name would be re-escaped.</summary>
    static (byte[] Utf8, byte[]? Integrations)? Write(ReadOnlyMemory<byte> body, BodyScanner scan, ref ScannedEvent e, string type,
        bool typeImplied, string? generatedMessageId, string? receivedAtToAdd)
    {
        var json = body.Span;
        var o = t_output ??= new ArrayBufferWriter<byte>(4096);
        o.ResetWrittenCount();
        bool wroteType = false, wroteSentAt = false, wroteMessageId = false, wroteReceivedAt = false, first = true;
        int integrationsStart = 0, integrationsEnd = 0;
        Put(o, "{"u8);
        for (var i = e.FirstProperty; i < e.FirstProperty + e.PropertyCount; i++)
        {
            ref var p = ref scan.Property(i);
            if (p.Field == Fields.WriteKey) continue; // a credential: it authenticated the request and is never stored
            var name = json.Slice(p.NameStart, p.NameLength);
            if (name.IndexOfAny(NormalisedWriter.Reescaped) >= 0) return null;
            if (!first) Put(o, ","u8);
            first = false;
            Put(o, "\""u8);
            Put(o, name);
            Put(o, "\":"u8);
            switch (p.Field)
            {
                case Fields.Type:
                    wroteType = true;
                    Quoted(o, type);
                    break;
                case Fields.UserId or Fields.AnonymousId or Fields.GroupId or Fields.PreviousId when p.Kind == JsonTokenType.Number:
                    Put(o, "\""u8); // D3: 8412 → "8412", as written (an exponent's '+' is refused by Id)
                    Put(o, json.Slice(p.ValueStart, p.ValueLength));
                    Put(o, "\""u8);
                    break;
                case Fields.Integrations:
                    integrationsStart = o.WrittenCount;
                    Copy(o, body, p.ValueStart, p.ValueLength, p.Spaced);
                    integrationsEnd = o.WrittenCount;
                    break;
                case Fields.SentAt:
                    wroteSentAt = true;
                    if (p.Kind == JsonTokenType.Null && scan.EnvelopeSentAt.End.Value > 0) CopyRange(o, body, scan.EnvelopeSentAt);
                    else Copy(o, body, p.ValueStart, p.ValueLength, p.Spaced);
                    break;
                case Fields.MessageId when generatedMessageId is not null:
                    wroteMessageId = true;
                    Quoted(o, generatedMessageId);
                    break;
                case Fields.ReceivedAt when receivedAtToAdd is not null:
                    wroteReceivedAt = true;
                    Quoted(o, receivedAtToAdd);
                    break;
                default:
                    Copy(o, body, p.ValueStart, p.ValueLength, p.Spaced);
                    break;
            }
        }
        if (!wroteType && typeImplied) Member(o, ref first, "type"u8, type);
        if (!wroteSentAt && scan.EnvelopeSentAt.End.Value > 0)
        {
            Name(o, ref first, "sentAt"u8);
            CopyRange(o, body, scan.EnvelopeSentAt);
        }
        if (!wroteMessageId && generatedMessageId is not null) Member(o, ref first, "messageId"u8, generatedMessageId);
        if (!wroteReceivedAt && receivedAtToAdd is not null) Member(o, ref first, "receivedAt"u8, receivedAtToAdd);
        Put(o, "}"u8);
        var integrations = o.WrittenSpan[integrationsStart..integrationsEnd];
        return (o.WrittenSpan.ToArray(), integrations.Length > 2 && integrations[0] == (byte)'{' ? integrations.ToArray() : null);
    }

    /// <summary>
    /// A value: its bytes as received when the writer would write the same (compact, nothing it escapes otherwise), else its
    /// tokens one by one as <see cref="JsonElement.WriteTo"/> writes them (strings and names unescaped, then re-escaped by the
    /// writer's default encoder; numbers as written).
    /// </summary>
    static void Copy(ArrayBufferWriter<byte> o, ReadOnlyMemory<byte> body, int start, int length, bool spaced)
    {
        var raw = body.Span.Slice(start, length);
        if (!spaced && raw.IndexOfAny(NormalisedWriter.Reescaped) < 0)
        {
            Put(o, raw);
            return;
        }
        var w = t_tokens ??= new Utf8JsonWriter(o);
        w.Reset(o);
        var r = new Utf8JsonReader(raw, new JsonReaderOptions { MaxDepth = IngressLimits.MaxJsonDepth });
        byte[]? rented = null;
        try
        {
            while (r.Read())
            {
                switch (r.TokenType)
                {
                    case JsonTokenType.StartObject: w.WriteStartObject(); break;
                    case JsonTokenType.EndObject: w.WriteEndObject(); break;
                    case JsonTokenType.StartArray: w.WriteStartArray(); break;
                    case JsonTokenType.EndArray: w.WriteEndArray(); break;
                    case JsonTokenType.PropertyName: w.WritePropertyName(Unescaped(ref r, ref rented)); break;
                    case JsonTokenType.String: w.WriteStringValue(Unescaped(ref r, ref rented)); break;
                    case JsonTokenType.Number: w.WriteRawValue(r.ValueSpan, skipInputValidation: true); break;
                    case JsonTokenType.True: w.WriteBooleanValue(true); break;
                    case JsonTokenType.False: w.WriteBooleanValue(false); break;
                    default: w.WriteNullValue(); break;
                }
            }
            w.Flush();
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    static ReadOnlySpan<byte> Unescaped(ref Utf8JsonReader r, ref byte[]? rented)
    {
        if (!r.ValueIsEscaped) return r.ValueSpan;
        if (rented is null || rented.Length < r.ValueSpan.Length)
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
            rented = ArrayPool<byte>.Shared.Rent(r.ValueSpan.Length); // unescaping never lengthens
        }
        return rented.AsSpan(0, r.CopyString(rented));
    }

    static void CopyRange(ArrayBufferWriter<byte> o, ReadOnlyMemory<byte> body, Range range)
    {
        var (start, length) = range.GetOffsetAndLength(body.Length);
        Copy(o, body, start, length, spaced: false);
    }

    static void Name(ArrayBufferWriter<byte> o, ref bool first, ReadOnlySpan<byte> name)
    {
        Put(o, first ? "\""u8 : ",\""u8);
        first = false;
        Put(o, name);
        Put(o, "\":"u8);
    }

    static void Member(ArrayBufferWriter<byte> o, ref bool first, ReadOnlySpan<byte> name, string value)
    {
        Name(o, ref first, name);
        Quoted(o, value);
    }

    /// <summary>A string the service made or chose (a call type, a generated messageId, a receivedAt): ASCII letters, digits
    /// and punctuation the writer leaves alone.</summary>
    static void Quoted(ArrayBufferWriter<byte> o, string value)
    {
        var span = o.GetSpan(value.Length + 2);
        span[0] = (byte)'"';
        for (var i = 0; i < value.Length; i++) span[i + 1] = (byte)value[i];
        span[value.Length + 1] = (byte)'"';
        o.Advance(value.Length + 2);
    }

    static void Put(ArrayBufferWriter<byte> o, ReadOnlySpan<byte> bytes) => o.Write(bytes);

    static ScannedProperty? Slot(BodyScanner scan, ref ScannedEvent e, int field) =>
        e.Slots[field] is var at and > 0 ? scan.Property(at - 1) : null;

    /// <summary>A string field's text, or null when it is absent; the caller has refused escaped ones.</summary>
    static string? Text(BodyScanner scan, ref ScannedEvent e, int field, ReadOnlySpan<byte> json) =>
        Slot(scan, ref e, field) is { Kind: JsonTokenType.String } p ? Encoding.UTF8.GetString(Content(json, p.ValueStart, p.ValueLength)) : null;

    /// <summary>D3 as <see cref="Id(Fields, int, string, Action{string, string})"/> reads it; false for what the long way
    /// answers or writes otherwise (an object or array, an escaped string, an exponent with '+').</summary>
    static bool Id(BodyScanner scan, ref ScannedEvent e, int field, ReadOnlySpan<byte> json, out string? id)
    {
        id = null;
        if (Slot(scan, ref e, field) is not { } p) return true;
        var raw = json.Slice(p.ValueStart, p.ValueLength);
        switch (p.Kind)
        {
            case JsonTokenType.String when !p.Escaped:
                id = Encoding.UTF8.GetString(raw[1..^1]);
                return true;
            case JsonTokenType.Number when raw.IndexOf((byte)'+') < 0:
                id = Encoding.UTF8.GetString(raw);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The call type a body's type names, lower-cased as stored; null for anything else (the long way answers it).</summary>
    static string? KnownType(ScannedProperty p, ReadOnlySpan<byte> json)
    {
        if (p.Kind != JsonTokenType.String || p.Escaped) return null;
        var raw = Content(json, p.ValueStart, p.ValueLength);
        foreach (var (name, utf8) in KnownTypes)
            if (Ascii.EqualsIgnoreCase(raw, utf8)) return name;
        return null;
    }

    static readonly (string Name, byte[] Utf8)[] KnownTypes =
    [
        .. new[] { CallTypes.Track, CallTypes.Identify, CallTypes.Page, CallTypes.Screen, CallTypes.Group, CallTypes.Alias, CallTypes.Delete }
            .Select(t => (t, Encoding.UTF8.GetBytes(t))),
    ];

    static ReadOnlySpan<byte> Content(ReadOnlySpan<byte> json, int start, int length) => json.Slice(start + 1, length - 2);

    static bool IsTimestamp(ReadOnlySpan<byte> content)
    {
        if (IsUtcMilliseconds(content)) return true;
        var s = Encoding.UTF8.GetString(content);
        return IsoTimestamp().IsMatch(s) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);
    }

    /// <summary>Now as <see cref="Iso"/> writes it, made once per millisecond per thread: a batch's events share it.</summary>
    string ReceivedNow()
    {
        var now = clock.GetUtcNow();
        var millisecond = now.UtcTicks / TimeSpan.TicksPerMillisecond;
        if (t_receivedAt.Text is null || t_receivedAt.Millisecond != millisecond) t_receivedAt = (millisecond, Iso(now));
        return t_receivedAt.Text;
    }
}
