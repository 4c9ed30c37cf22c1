using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Mapping;

namespace Destinations.Webhook;

/// <summary>
/// Writes a JSON value the way JavaScript's <c>JSON.stringify</c> does — what Segment's request client sends and signs — except
/// that a number keeps the text it arrived with (ours are never re-parsed into doubles, so big ids stay exact):
/// no whitespace; non-ASCII and HTML characters as they are; <c>\b \f \n \r \t \" \\</c> and <c>\u00xx</c> for other control
/// characters; a lone surrogate as <c>\udxxx</c>; an object's integer-like keys first, in ascending order, then the others in
/// insertion order (the property order of a JavaScript object).
/// </summary>
public static class JsJson
{
    public static byte[] Utf8(JsonNode? node) =>
        Utf8Json.TryGetUtf8(node, out var raw) && WrittenAsIs(raw.Span) ? raw.ToArray() : Encoding.UTF8.GetBytes(Stringify(node));

    public static string Stringify(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return sb.ToString();
    }

    static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                return;
            case JsonObject o:
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in Ordered(o))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteString(sb, key);
                    sb.Append(':');
                    Write(sb, value);
                }
                sb.Append('}');
                return;
            case JsonValue v when Utf8Json.TryGetUtf8(v, out var raw):
                WriteCopied(sb, raw);
                return;
            case JsonArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    Write(sb, a[i]);
                }
                sb.Append(']');
                return;
            default:
                switch (node.GetValueKind())
                {
                    case JsonValueKind.String: WriteString(sb, node.GetValue<string>()); return;
                    case JsonValueKind.True: sb.Append("true"); return;
                    case JsonValueKind.False: sb.Append("false"); return;
                    case JsonValueKind.Null: sb.Append("null"); return;
                    default: sb.Append(node.ToJsonString()); return; // a number: its own text
                }
        }
    }

    /// <summary>
    /// A value copied from the event as written (<see cref="Utf8Json.Node"/>): its text itself when JSON.stringify would write
    /// it unchanged — no escapes (so no control characters or lone surrogates), no whitespace between tokens, no object key
    /// that JavaScript orders first (an array index); else written from its DOM like any other value.
    /// </summary>
    static void WriteCopied(StringBuilder sb, ReadOnlyMemory<byte> raw)
    {
        var span = raw.Span;
        if (WrittenAsIs(span))
        {
            sb.Append(Encoding.UTF8.GetString(span));
            return;
        }
        Write(sb, JsonNode.Parse(span));
    }

    static bool WrittenAsIs(ReadOnlySpan<byte> raw) =>
        raw.IndexOf((byte)'\\') < 0 && !HasWhitespaceBetweenTokens(raw) && !HasArrayIndexKey(raw);

    /// <summary>Whitespace outside strings; called on text without backslashes, so every quote opens or closes a string.</summary>
    static bool HasWhitespaceBetweenTokens(ReadOnlySpan<byte> raw)
    {
        var inString = false;
        foreach (var b in raw)
        {
            if (b == (byte)'"') inString = !inString;
            else if (!inString && b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') return true;
        }
        return false;
    }

    static bool HasArrayIndexKey(ReadOnlySpan<byte> raw)
    {
        if (raw.IndexOf((byte)'{') < 0) return false;
        var r = new Utf8JsonReader(raw);
        while (r.Read())
            if (r.TokenType == JsonTokenType.PropertyName && IsArrayIndex(r.ValueSpan)) return true;
        return false;
    }

    /// <summary><see cref="ArrayIndex"/> on a key's UTF-8 bytes (unescaped: the caller has no backslashes).</summary>
    static bool IsArrayIndex(ReadOnlySpan<byte> key)
    {
        if (key.Length is 0 or > 10 || (key.Length > 1 && key[0] == (byte)'0')) return false;
        ulong n = 0;
        foreach (var b in key)
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
            n = n * 10 + (ulong)(b - '0');
        }
        return n < uint.MaxValue;
    }

    /// <summary>JavaScript's own-property order: array-index keys (0 … 2³²−2, canonical form) ascending, then the rest as inserted.</summary>
    static IEnumerable<KeyValuePair<string, JsonNode?>> Ordered(JsonObject o)
    {
        List<(uint Index, KeyValuePair<string, JsonNode?> Pair)>? indexed = null;
        foreach (var pair in o)
            if (ArrayIndex(pair.Key) is { } i) (indexed ??= []).Add((i, pair));
        if (indexed is null) return o;
        return indexed.OrderBy(p => p.Index).Select(p => p.Pair).Concat(o.Where(p => ArrayIndex(p.Key) is null));
    }

    static uint? ArrayIndex(string key)
    {
        if (key.Length is 0 or > 10 || (key.Length > 1 && key[0] == '0')) return null;
        foreach (var c in key) if (c is < '0' or > '9') return null;
        return ulong.Parse(key, CultureInfo.InvariantCulture) is var n && n < uint.MaxValue ? (uint)n : null;
    }

    static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case < ' ': Hex(sb, c); break;
                case >= '\uD800' and <= '\uDBFF' when i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]):
                    sb.Append(c).Append(s[++i]);
                    break;
                case >= '\uD800' and <= '\uDFFF': Hex(sb, c); break; // a lone surrogate (well-formed JSON.stringify)
                default: sb.Append(c); break;
            }
        }
        sb.Append('"');
    }

    static void Hex(StringBuilder sb, char c) => sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
}
