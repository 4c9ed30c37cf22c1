using System.Text.Json;
using System.Text.Unicode;

namespace Destinations.Core.Segment;

/// <summary>
/// Parses a request body into a <see cref="JsonDocument"/> without ever throwing for bad input: empty bodies, invalid UTF-8,
/// malformed JSON, nesting deeper than <see cref="IngressLimits.MaxJsonDepth"/> and duplicate keys (at any depth) all become a
/// <see cref="FieldError"/> (a 400, never a 5xx: Segment would retry a 5xx for hours, docs/ingress.md "Answers").
/// The document reads the body where it lies and keeps its token table in pooled arrays: no DOM, no copy of the body (a
/// whole 500 KB batch copied per request would land on the large-object heap). The caller disposes it, and the body must
/// outlive it.
/// </summary>
public static class JsonBody
{
    static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = IngressLimits.MaxJsonDepth };
    static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = IngressLimits.MaxJsonDepth, AllowDuplicateProperties = false };

    public static bool TryParse(ReadOnlyMemory<byte> body, out JsonDocument? document, out FieldError? error)
    {
        document = null;
        var json = body[(body.Length - WithoutBom(body.Span).Length)..];
        if (json.Span.Trim(" \t\r\n"u8).IsEmpty) { error = new(FieldError.Body, "the body is empty; send a JSON event"); return false; }
        if (!Utf8.IsValid(json.Span)) { error = new(FieldError.Body, "the body is not valid UTF-8"); return false; }
        try
        {
            // Syntax, depth and trailing bytes first, with the reader's line and byte in the error ...
            var reader = new Utf8JsonReader(json.Span, ReaderOptions);
            reader.Read();
            reader.Skip();
            reader.Read(); // anything but whitespace after the value throws here
        }
        catch (JsonException ex) when (ex.Message.Contains("depth", StringComparison.OrdinalIgnoreCase))
        {
            error = new(FieldError.Body, $"the body is nested deeper than {IngressLimits.MaxJsonDepth} levels");
            return false;
        }
        catch (JsonException ex)
        {
            // Our own words, not the parser's message: it may quote bytes of the body.
            error = new(FieldError.Body, $"the body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})");
            return false;
        }
        try
        {
            // ... so on well-formed JSON the document can only object to a key given twice.
            document = JsonDocument.Parse(json, DocumentOptions);
            error = null;
            return true;
        }
        catch (JsonException)
        {
            error = new(FieldError.Body, "the body is not valid JSON: an object has the same key twice");
            return false;
        }
    }

    /// <summary>
    /// The byte ranges (within <paramref name="body"/>, as received) of the elements of the top-level array, or — with
    /// <paramref name="property"/> — of the array under that top-level property. Empty when there is no such array.
    /// Used for the webhook first-element signature (§3): never re-serialise to sign.
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
}
