using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Destinations.Core.Segment;

namespace Destinations.Core.Mapping;

/// <summary>
/// Reading an event's UTF-8 JSON (<see cref="SegmentEvent.CurrentUtf8Json"/>) without a DOM, for mappers that look up a few
/// values and copy sub-trees into a partner body: one pass over an object's members, and nodes that write a copied
/// sub-tree's bytes instead of a deep copy of it.
/// </summary>
public static class Utf8Json
{
    static readonly SearchValues<byte> Whitespace = SearchValues.Create(" \t\r\n"u8);

    /// <summary>
    /// The values of the members <paramref name="names"/> (UTF-8) of the object <paramref name="json"/>, its own members
    /// only, in one pass: element i is the value of names[i] as it is written there (the last one when a name repeats), or
    /// empty when absent. All empty when <paramref name="json"/> is not an object.
    /// </summary>
    public static ReadOnlyMemory<byte>[] Members(ReadOnlyMemory<byte> json, byte[][] names)
    {
        var found = new ReadOnlyMemory<byte>[names.Length];
        if (!IsObject(json)) return found;
        var r = new Utf8JsonReader(json.Span);
        r.Read();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var i = IndexOf(ref r, names);
            r.Read();
            var start = (int)r.TokenStartIndex;
            r.Skip();
            if (i >= 0) found[i] = json[start..(int)r.BytesConsumed];
        }
        return found;
    }

    static int IndexOf(ref Utf8JsonReader r, byte[][] names)
    {
        for (var i = 0; i < names.Length; i++)
            if (r.ValueTextEquals(names[i])) return i;
        return -1;
    }

    /// <summary>True when <paramref name="value"/> is a JSON object (as <see cref="Members"/> returns values: no leading space).</summary>
    public static bool IsObject(ReadOnlyMemory<byte> value) => value.Length > 0 && value.Span[0] == (byte)'{';

    /// <summary>True when <paramref name="value"/> is present and not JSON null (what a DOM lookup returns as a node).</summary>
    public static bool IsSet(ReadOnlyMemory<byte> value) => value.Length > 0 && !value.Span.SequenceEqual("null"u8);

    /// <summary>
    /// <see cref="Delivery.PartnerValues.Text"/> for a value as written: a non-empty string, or a number's JSON text; null for
    /// anything else, and for an absent (empty) value.
    /// </summary>
    public static string? Text(ReadOnlyMemory<byte> value)
    {
        if (value.IsEmpty) return null;
        var r = new Utf8JsonReader(value.Span);
        r.Read();
        return r.TokenType switch
        {
            JsonTokenType.String => r.GetString() is { Length: > 0 } s ? s : null,
            JsonTokenType.Number => Encoding.UTF8.GetString(r.ValueSpan),
            _ => null,
        };
    }

    /// <summary>
    /// A node for one JSON value that writes it as <see cref="JsonElement.WriteTo"/> would (its bytes themselves when the
    /// writer would write them unchanged): what a deep copy of the value's DOM would write, without building it. Read-only:
    /// it reads as a value of its kind; <see cref="JsonNode.DeepClone"/> gives an ordinary DOM when one must be changed.
    /// Written with options of one's own (<c>ToJsonString(options)</c>), those options need a <c>TypeInfoResolver</c>, as
    /// JsonSerializer's always have: a node holding a .NET value is written through them.
    /// </summary>
    public static JsonNode Node(ReadOnlyMemory<byte> value) => JsonValue.Create(new Raw(value), RawInfo)!;

    /// <summary>
    /// The object <paramref name="obj"/> with the string member <paramref name="name"/> added at its end, as a
    /// <see cref="Node"/>: what setting that member on the object's DOM writes. The caller knows the object has no such
    /// member (setting an existing member keeps its place, which appending would not).
    /// </summary>
    public static JsonNode WithString(ReadOnlyMemory<byte> obj, string name, string value)
    {
        var span = obj.Span;
        var output = new ArrayBufferWriter<byte>(span.Length + name.Length + value.Length + 16);
        output.Write(span[..^1]); // without the closing brace
        if (span[1..^1].IndexOfAnyExcept(Whitespace) >= 0) output.Write(","u8);
        using (var w = new Utf8JsonWriter(output))
        {
            // One property name, then the value, each as the DOM's writer writes them (default encoder).
            w.WriteStringValue(name);
            w.Flush();
            output.Write(":"u8);
            w.Reset(output);
            w.WriteStringValue(value);
        }
        output.Write("}"u8);
        return Node(output.WrittenMemory);
    }

    /// <summary>The bytes a node made by <see cref="Node"/> writes; false for any other node.</summary>
    public static bool TryGetUtf8(JsonNode? node, out ReadOnlyMemory<byte> utf8)
    {
        if (node is JsonValue v && v.TryGetValue<Raw>(out var raw))
        {
            utf8 = raw.Utf8;
            return true;
        }
        utf8 = default;
        return false;
    }

    /// <summary>The kind of a value as written (no leading space); <see cref="JsonValueKind.Undefined"/> when absent (empty).</summary>
    public static JsonValueKind KindOf(ReadOnlyMemory<byte> value) => value.IsEmpty ? JsonValueKind.Undefined : value.Span[0] switch
    {
        (byte)'{' => JsonValueKind.Object,
        (byte)'[' => JsonValueKind.Array,
        (byte)'"' => JsonValueKind.String,
        (byte)'t' => JsonValueKind.True,
        (byte)'f' => JsonValueKind.False,
        (byte)'n' => JsonValueKind.Null,
        _ => JsonValueKind.Number,
    };

    /// <summary>The string a JSON string value holds (unescaped, empty included); null for any other value or an absent one.</summary>
    public static string? StringOf(ReadOnlyMemory<byte> value)
    {
        if (KindOf(value) != JsonValueKind.String) return null;
        var r = new Utf8JsonReader(value.Span);
        r.Read();
        return r.GetString();
    }

    /// <summary>Item <paramref name="index"/> of the array <paramref name="json"/> as written; empty when there is none or it is not an array.</summary>
    public static ReadOnlyMemory<byte> Item(ReadOnlyMemory<byte> json, int index)
    {
        if (KindOf(json) != JsonValueKind.Array || index < 0) return default;
        var r = new Utf8JsonReader(json.Span);
        r.Read();
        for (var i = 0; r.Read() && r.TokenType != JsonTokenType.EndArray; i++)
        {
            var start = (int)r.TokenStartIndex;
            r.Skip();
            if (i == index) return json[start..(int)r.BytesConsumed];
        }
        return default;
    }

    /// <summary>A whole JSON text without the whitespace around its value (as <see cref="Members"/> returns values).</summary>
    public static ReadOnlyMemory<byte> Trimmed(ReadOnlyMemory<byte> json)
    {
        var span = json.Span;
        var start = span.IndexOfAnyExcept(Whitespace);
        return start < 0 ? default : json[start..(span.LastIndexOfAnyExcept(Whitespace) + 1)];
    }

    /// <summary>
    /// Compact JSON text of a value as written, escaped with <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>: what
    /// <c>ToJsonString</c> with that encoder writes for the value's DOM. The bytes themselves when that writer would write
    /// them unchanged (no escapes, only ASCII it leaves as it is, no whitespace between tokens).
    /// </summary>
    public static string RelaxedText(ReadOnlyMemory<byte> value)
    {
        var raw = value.Span;
        if (raw.IndexOfAny(RelaxedReescaped) < 0 && !NormalisedWriter.HasWhitespaceBetweenTokens(raw)) return Encoding.UTF8.GetString(raw);
        var output = new ArrayBufferWriter<byte>(raw.Length + 16);
        using (var document = JsonDocument.Parse(value))
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            document.RootElement.WriteTo(writer);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>Bytes the relaxed writer may write otherwise than they came: escapes, DEL and every byte of a non-ASCII
    /// character (it escapes some of those, such as characters outside the Basic Multilingual Plane).</summary>
    static readonly SearchValues<byte> RelaxedReescaped = SearchValues.Create(
        [(byte)'\\', .. Enumerable.Range(0x7F, 0x81).Select(b => (byte)b)]);

    static readonly JsonTypeInfo<Raw> RawInfo = (JsonTypeInfo<Raw>)new JsonSerializerOptions
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    }.GetTypeInfo(typeof(Raw));

    /// <summary>The converter is on the type, so the value writes itself with any options it is serialized with.</summary>
    [JsonConverter(typeof(RawConverter))]
    sealed record Raw(ReadOnlyMemory<byte> Utf8);

    sealed class RawConverter : JsonConverter<Raw>
    {
        public override Raw Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("a copied JSON value is only written");

        public override void Write(Utf8JsonWriter writer, Raw value, JsonSerializerOptions options)
        {
            var raw = value.Utf8.Span;
            // The test NormalisedWriter copies ingress values with: no escapes, nothing the default encoder escapes, no
            // whitespace between tokens. An indented writer lays the value out itself.
            if (!writer.Options.Indented && raw.IndexOfAny(NormalisedWriter.Reescaped) < 0 && !NormalisedWriter.HasWhitespaceBetweenTokens(raw))
            {
                writer.WriteRawValue(raw, skipInputValidation: true);
                return;
            }
            using var document = JsonDocument.Parse(value.Utf8);
            document.RootElement.WriteTo(writer);
        }
    }
}
