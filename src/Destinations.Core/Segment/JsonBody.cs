using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace Destinations.Core.Segment;

/// <summary>
/// Parses a request body into a JSON DOM without ever throwing for bad input: empty bodies, invalid UTF-8, malformed JSON,
/// nesting deeper than <see cref="IngressLimits.MaxJsonDepth"/> and duplicate keys all become a <see cref="FieldError"/>
/// (a 400, never a 5xx: Segment would retry a 5xx for hours, segment-ingress.md §5).
/// </summary>
public static class JsonBody
{
    static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = IngressLimits.MaxJsonDepth };
    static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = IngressLimits.MaxJsonDepth };

    public static bool TryParse(ReadOnlyMemory<byte> body, out JsonNode? root, out FieldError? error)
    {
        root = null;
        var json = WithoutBom(body.Span);
        if (json.Trim(" \t\r\n"u8).IsEmpty) { error = new(FieldError.Body, "the body is empty; send a JSON event"); return false; }
        if (!Utf8.IsValid(json)) { error = new(FieldError.Body, "the body is not valid UTF-8"); return false; }
        try
        {
            // One validating pass over the whole body (syntax, depth, trailing bytes): errors carry its line and byte.
            var reader = new Utf8JsonReader(json, ReaderOptions);
            reader.Read();
            reader.Skip();
            reader.Read(); // anything but whitespace after the value throws here
            root = Build(json);
            error = null;
            return true;
        }
        catch (JsonException ex) when (ex.Message.Contains("depth", StringComparison.OrdinalIgnoreCase))
        {
            error = new(FieldError.Body, $"the body is nested deeper than {IngressLimits.MaxJsonDepth} levels");
        }
        catch (JsonException ex)
        {
            // Our own words, not the parser's message: it may quote bytes of the body.
            error = new(FieldError.Body, $"the body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})");
        }
        catch (ArgumentException)
        {
            error = new(FieldError.Body, "the body is not valid JSON: an object has the same key twice");
        }
        catch (InvalidOperationException)
        {
            error = new(FieldError.Body, "the body is not valid JSON");
        }
        root = null;
        return false;
    }

    /// <summary>
    /// The byte ranges (within <paramref name="body"/>, as received) of the elements of the top-level array, or — with
    /// <paramref name="property"/> — of the array under that top-level property. Empty when there is no such array.
    /// Used for per-event size limits and the webhook first-element signature (§3): never re-serialise to measure or sign.
    /// Call on a body <see cref="TryParse"/> accepted.
    /// </summary>
    public static IReadOnlyList<Range> ElementRanges(ReadOnlySpan<byte> body, string? property = null)
    {
        var offset = body.Length - WithoutBom(body).Length;
        var reader = new Utf8JsonReader(body[offset..], new JsonReaderOptions { MaxDepth = IngressLimits.MaxJsonDepth });
        var ranges = new List<Range>();
        if (!reader.Read()) return ranges;
        if (property is not null)
        {
            if (reader.TokenType != JsonTokenType.StartObject) return ranges;
            while (true)
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName) return ranges;
                var match = reader.ValueTextEquals(property);
                reader.Read();
                if (match) break;
                reader.Skip();
            }
        }
        if (reader.TokenType != JsonTokenType.StartArray) return ranges;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip(); // on a start token: moves to its matching end; on a value: stays
            ranges.Add(new Range(offset + start, offset + (int)reader.BytesConsumed));
        }
        return ranges;
    }

    static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> json) => json.StartsWith("\uFEFF"u8) ? json[3..] : json;

    /// <summary>
    /// Builds the DOM of a body already validated: a top-level object's properties and the elements of a top-level array (or
    /// of an array property, such as <c>batch</c>) are parsed one by one. A whole 500 KB batch parsed at once would copy the
    /// body and its token table into fresh arrays on the large-object heap (JsonNode keeps its document alive, so it cannot
    /// use pooled ones), and those drive gen-2 collections under load; per-event pieces stay small.
    /// </summary>
    static JsonNode? Build(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        reader.Read();
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var o = new JsonObject();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.GetString()!;
                    reader.Read();
                    // Add, not the indexer: a key given twice is an ArgumentException, as JsonNode.Parse reports it.
                    o.Add(name, reader.TokenType == JsonTokenType.StartArray ? BuildArray(ref reader, json) : ParseValue(ref reader, json));
                }
                return o;
            case JsonTokenType.StartArray:
                return BuildArray(ref reader, json);
            default:
                return ParseSlice(json);
        }
    }

    static JsonArray BuildArray(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        var array = new JsonArray();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) array.Add(ParseValue(ref reader, json));
        return array;
    }

    /// <summary>The value the reader is on, parsed on its own; the reader ends on its last token.</summary>
    static JsonNode? ParseValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return ParseSlice(json[start..(int)reader.BytesConsumed]);
    }

    static JsonNode? ParseSlice(ReadOnlySpan<byte> json)
    {
        var node = JsonNode.Parse(json, nodeOptions: null, documentOptions: DocumentOptions);
        Materialise(node); // JsonNode parses lazily: surface duplicate keys here, not later in a handler
        return node;
    }

    static void Materialise(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o: foreach (var (_, v) in o) Materialise(v); break;
            case JsonArray a: foreach (var v in a) Materialise(v); break;
        }
    }
}
