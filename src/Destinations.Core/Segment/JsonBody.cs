using System.Text.Json;
using System.Text.Unicode;

namespace Destinations.Core.Segment;

/// <summary>
/// Parses a request body into a <see cref="JsonDocument"/> without ever throwing for bad input: empty bodies, invalid UTF-8,
/// malformed JSON, nesting deeper than <see cref="IngressLimits.MaxJsonDepth"/> and duplicate keys (at any depth) all become a
/// <see cref="FieldError"/> (a 400, never a 5xx: Segment would retry a 5xx for hours, docs/ingress.md "Answers"); strings that are
/// not valid UTF-16 are reported as <see cref="InvalidText"/>, for the caller to reject the events holding them.
/// The document reads the body where it lies and keeps its token table in pooled arrays: no DOM, no copy of the body (a
/// whole 500 KB batch copied per request would land on the large-object heap). The caller disposes it, and the body must
/// outlive it.
/// </summary>
public static class JsonBody
{
    static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = IngressLimits.MaxJsonDepth };
    static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = IngressLimits.MaxJsonDepth, AllowDuplicateProperties = false };

    static readonly JsonDocumentOptions DocumentOptionsKeysChecked = new() { MaxDepth = IngressLimits.MaxJsonDepth, AllowDuplicateProperties = true };

    /// <summary>Parses a body that must be all valid text: a string that is not valid UTF-16 is a body error.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> body, out JsonDocument? document, out FieldError? error)
    {
        if (!TryParse(body, out document, out error, out var invalid)) return false;
        if (invalid.Count == 0) return true;
        document!.Dispose();
        document = null;
        error = invalid[0].ToError() with { Field = FieldError.Body };
        return false;
    }

    /// <summary>
    /// Parses a body; <paramref name="invalidText"/> lists the strings (values or property names) whose escapes are not valid
    /// UTF-16, in body order. The document is still returned then: the caller rejects the events that hold them and must not
    /// read those strings (or look up names in objects holding an invalid name).
    /// </summary>
    public static bool TryParse(ReadOnlyMemory<byte> body, out JsonDocument? document, out FieldError? error, out IReadOnlyList<InvalidText> invalidText)
    {
        document = null;
        invalidText = [];
        var bomBytes = body.Length - WithoutBom(body.Span).Length;
        var json = body[bomBytes..];
        if (json.Span.Trim(" \t\r\n"u8).IsEmpty) { error = new(FieldError.Body, "the body is empty; send a JSON event"); return false; }
        if (!Utf8.IsValid(json.Span)) { error = new(FieldError.Body, "the body is not valid UTF-8"); return false; }
        // Nearly every body is well-formed JSON without a surrogate escape: then the document's own pass is the only one (it
        // checks syntax, depth, trailing bytes and duplicate keys). Anything it refuses goes the long way below, which finds
        // the exact answer again.
        if (!MayHoldSurrogateEscape(json.Span))
        {
            try
            {
                document = JsonDocument.Parse(json, DocumentOptions);
                error = null;
                return true;
            }
            catch (JsonException)
            {
                // reported below, with the reader's position
            }
        }
        var suspect = false;
        try
        {
            // Syntax, depth and trailing bytes first, with the reader's line and byte in the error. The same pass looks inside
            // the few strings that have escapes: the reader checks their syntax, not that \u escapes pair up as UTF-16.
            var reader = new Utf8JsonReader(json.Span, ReaderOptions);
            while (reader.Read()) // anything but whitespace after the value throws here
                if (reader.ValueIsEscaped && !suspect && reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
                    suspect = InvalidText.HasInvalidEscape(reader.ValueSpan);
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
        const string duplicate = "the body is not valid JSON: an object has the same key twice";
        if (suspect)
        {
            // Rare: find each invalid string's path. The document's duplicate-key check would read every name as text and
            // throw on an invalid one, so the walk checks keys instead and the document skips its check.
            var found = InvalidText.Locate(json.Span, bomBytes, ReaderOptions, out var duplicateKey);
            if (duplicateKey) { error = new(FieldError.Body, duplicate); return false; }
            invalidText = found;
            document = JsonDocument.Parse(json, DocumentOptionsKeysChecked);
            error = null;
            return true;
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
            error = new(FieldError.Body, duplicate);
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

    /// <summary>
    /// Whether some <c>\u</c> escape could encode a UTF-16 surrogate (<c>\uD800</c>–<c>\uDFFF</c>), the only escapes that can
    /// be invalid text. An escaped backslash followed by "ud" also answers true: that only costs the slower exact check.
    /// </summary>
    internal static bool MayHoldSurrogateEscape(ReadOnlySpan<byte> json)
    {
        for (var i = json.IndexOf("\\u"u8); i >= 0; )
        {
            if (i + 2 < json.Length && (json[i + 2] | 0x20) == 'd') return true;
            var next = json[(i + 2)..].IndexOf("\\u"u8);
            i = next < 0 ? -1 : i + 2 + next;
        }
        return false;
    }

    internal static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> json) => json.StartsWith("\uFEFF"u8) ? json[3..] : json;
}
