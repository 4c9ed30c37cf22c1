using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Destinations.Core.Segment;

/// <summary>The top-level fields of an event the ingress rules look at, found in one pass (JSON null counts as absent).</summary>
sealed class Fields
{
    public const int Type = 0, UserId = 1, AnonymousId = 2, GroupId = 3, PreviousId = 4,
        Traits = 5, Properties = 6, Context = 7, Integrations = 8,
        Event = 9, Name = 10, Category = 11, MessageId = 12, Channel = 13,
        Timestamp = 14, OriginalTimestamp = 15, SentAt = 16, ReceivedAt = 17, Version = 18, WriteKey = 19;

    public const int Count = 20;

    public static readonly string[] Names =
    [
        "type", "userId", "anonymousId", "groupId", "previousId", "traits", "properties", "context", "integrations",
        "event", "name", "category", "messageId", "channel", "timestamp", "originalTimestamp", "sentAt", "receivedAt",
        "version", "writeKey",
    ];

    static readonly byte[][] Utf8Names = Array.ConvertAll(Names, n => System.Text.Encoding.UTF8.GetBytes(n));

    readonly JsonElement[] _values = new JsonElement[Names.Length];

    public JsonElement this[int i] => _values[i];

    public static Fields Find(JsonElement json)
    {
        var f = new Fields();
        foreach (var p in json.EnumerateObject())
            if (IndexOf(p) is var i and >= 0 && p.Value.ValueKind != JsonValueKind.Null) f._values[i] = p.Value;
        return f;
    }

    /// <summary>The field a property is, or -1.</summary>
    public static int IndexOf(JsonProperty p)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(p);
        if (raw.IndexOf((byte)'\\') >= 0) return Array.IndexOf(Names, p.Name); // an escaped name: compare it unescaped
        return IndexOf(raw);
    }

    /// <summary>The field a name without escapes is, or -1.</summary>
    public static int IndexOf(ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < Utf8Names.Length; i++)
            if (name.Length == Utf8Names[i].Length && name.SequenceEqual(Utf8Names[i])) return i;
        return -1;
    }
}

/// <summary>
/// Writes an event's normalised JSON (D3) with a per-thread reused buffer and writer: properties in their order, the write
/// key dropped, type/ids/messageId/receivedAt replaced in place, the batch envelope's context and integrations merged one
/// level deep (the event's keys win) and its sentAt filled in; what was missing is appended.
/// </summary>
static class NormalisedWriter
{
    [ThreadStatic] static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] static Utf8JsonWriter? t_writer;

    /// <returns>The event's UTF-8 JSON, and the UTF-8 of its integrations object when that has keys.</returns>
    public static (byte[] Utf8, byte[]? Integrations) Write(JsonElement json, Fields f, BatchEnvelope? envelope, string? type,
        bool typeImplied, string? generatedMessageId, string? receivedAtToAdd)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var w = t_writer ??= new Utf8JsonWriter(buffer);
        w.Reset(buffer);

        var envContext = envelope?.Context ?? default;
        var envIntegrations = envelope?.Integrations ?? default;
        var envSentAt = envelope?.SentAt ?? default;
        bool wroteType = false, wroteContext = false, wroteIntegrations = false, wroteSentAt = false, wroteMessageId = false, wroteReceivedAt = false;
        byte[]? integrations = null;

        w.WriteStartObject();
        foreach (var p in json.EnumerateObject())
        {
            var i = Fields.IndexOf(p);
            var value = p.Value;
            switch (i)
            {
                case Fields.WriteKey:
                    continue; // a credential: it authenticated the request and is never stored
                case Fields.Type:
                    wroteType = true;
                    if (type is null) Copy(w, p);
                    else w.WriteString("type"u8, type);
                    break;
                case Fields.UserId or Fields.AnonymousId or Fields.GroupId or Fields.PreviousId when value.ValueKind == JsonValueKind.Number:
                    w.WriteString(Fields.Names[i], value.GetRawText()); // D3: 8412 → "8412", as written
                    break;
                case Fields.Context:
                    wroteContext = true;
                    w.WritePropertyName("context"u8);
                    WriteMerged(w, value, envContext);
                    break;
                case Fields.Integrations:
                    wroteIntegrations = true;
                    w.WritePropertyName("integrations"u8);
                    integrations = Captured(w, buffer, value, envIntegrations);
                    break;
                case Fields.SentAt:
                    wroteSentAt = true;
                    w.WritePropertyName("sentAt"u8);
                    Copy(w, value.ValueKind == JsonValueKind.Null && envSentAt.ValueKind == JsonValueKind.String ? envSentAt : value);
                    break;
                case Fields.MessageId when generatedMessageId is not null:
                    wroteMessageId = true;
                    w.WriteString("messageId"u8, generatedMessageId);
                    break;
                case Fields.ReceivedAt when receivedAtToAdd is not null:
                    wroteReceivedAt = true;
                    w.WriteString("receivedAt"u8, receivedAtToAdd);
                    break;
                default:
                    Copy(w, p);
                    break;
            }
        }
        if (!wroteType && typeImplied) w.WriteString("type"u8, type);
        if (!wroteContext && envContext.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("context"u8);
            Copy(w, envContext);
        }
        if (!wroteIntegrations && envIntegrations.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("integrations"u8);
            integrations = Captured(w, buffer, default, envIntegrations);
        }
        if (!wroteSentAt && envSentAt.ValueKind == JsonValueKind.String)
        {
            w.WritePropertyName("sentAt"u8);
            Copy(w, envSentAt);
        }
        if (!wroteMessageId && generatedMessageId is not null) w.WriteString("messageId"u8, generatedMessageId);
        if (!wroteReceivedAt && receivedAtToAdd is not null) w.WriteString("receivedAt"u8, receivedAtToAdd);
        w.WriteEndObject();
        w.Flush();
        return (buffer.WrittenSpan.ToArray(), integrations);
    }

    /// <summary>Writes the (merged) integrations value and returns its bytes when it is an object with keys.</summary>
    static byte[]? Captured(Utf8JsonWriter w, ArrayBufferWriter<byte> buffer, JsonElement own, JsonElement top)
    {
        w.Flush();
        var start = buffer.WrittenCount;
        WriteMerged(w, own, top);
        w.Flush();
        var written = buffer.WrittenSpan[start..];
        return written.Length > 2 && written[0] == (byte)'{' ? written.ToArray() : null;
    }

    /// <summary>
    /// D3: the event's own object with the top-level keys it lacks (one level deep; the event's keys win). An absent or null
    /// own value takes the top-level object; an own value of another type is left alone (the reader has rejected it).
    /// </summary>
    static void WriteMerged(Utf8JsonWriter w, JsonElement own, JsonElement top)
    {
        if (top.ValueKind != JsonValueKind.Object) { Copy(w, own); return; }
        if (own.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) { Copy(w, top); return; }
        if (own.ValueKind != JsonValueKind.Object) { Copy(w, own); return; }
        w.WriteStartObject();
        foreach (var p in own.EnumerateObject()) Copy(w, p);
        foreach (var p in top.EnumerateObject())
            if (!Has(own, p)) Copy(w, p);
        w.WriteEndObject();
    }

    /// <summary>
    /// A value as <see cref="JsonElement.WriteTo"/> writes it (compact, strings re-escaped by the writer's encoder), but byte
    /// for byte as received when that is the same text — most values of a compact body: the parser has checked them, and
    /// re-reading and re-escaping every token only costs time.
    /// </summary>
    static void Copy(Utf8JsonWriter w, JsonElement value)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        if (raw.IndexOfAny(Reescaped) < 0 && !HasWhitespaceBetweenTokens(raw)) w.WriteRawValue(raw, skipInputValidation: true);
        else value.WriteTo(w);
    }

    /// <summary>A property as <see cref="Copy(Utf8JsonWriter, JsonElement)"/> writes a value.</summary>
    static void Copy(Utf8JsonWriter w, JsonProperty p)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(p);
        if (raw.IndexOfAny(Reescaped) >= 0) { p.WriteTo(w); return; }
        w.WritePropertyName(raw);
        Copy(w, p.Value);
    }

    /// <summary>Bytes the writer writes otherwise than they came: escapes, what its default encoder escapes (the
    /// HTML-sensitive characters and DEL) and every byte of a non-ASCII character.</summary>
    internal static readonly SearchValues<byte> Reescaped = SearchValues.Create(
        [(byte)'\\', (byte)'<', (byte)'>', (byte)'&', (byte)'\'', (byte)'+', (byte)'`',
         .. Enumerable.Range(0x7F, 0x81).Select(b => (byte)b)]);

    static readonly SearchValues<byte> Whitespace = SearchValues.Create(" \t\r\n"u8);

    /// <summary>
    /// Whitespace outside strings (the writer drops it; inside a string it stays). Called on a value without backslashes,
    /// so every quote opens or closes a string: a whitespace byte after an even number of quotes is between tokens.
    /// </summary>
    internal static bool HasWhitespaceBetweenTokens(ReadOnlySpan<byte> raw)
    {
        var quotes = 0;
        for (var offset = 0; ; )
        {
            var rest = raw[offset..];
            var at = rest.IndexOfAny(Whitespace);
            if (at < 0) return false;
            quotes += rest[..at].Count((byte)'"');
            if (quotes % 2 == 0) return true;
            offset += at + 1;
        }
    }

    static bool Has(JsonElement o, JsonProperty p)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(p);
        return raw.IndexOf((byte)'\\') >= 0 ? o.TryGetProperty(p.Name, out _) : o.TryGetProperty(raw, out _);
    }
}
