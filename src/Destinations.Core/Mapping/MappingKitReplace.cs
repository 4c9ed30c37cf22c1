using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Destinations.Core.Mapping;

/// <summary>
/// <c>@replace</c>: <c>{"pattern", "replacement"?, "pattern2"?, "replacement2"?, "ignorecase"? (false), "global"? (true), "value"}</c>.
/// The pattern is plain text, not a regular expression (Segment escapes it); the replacement is JavaScript's replacement text
/// (<c>$&amp;</c> the match, <c>$`</c> / <c>$'</c> the text before / after it, <c>$$</c> a dollar; anything else literal, the
/// pattern having no groups). Numbers and booleans are replaced in their text; any other value gives "" — Segment's
/// behaviour, and an empty string is then removed like a missing value. Patterns and replacements are at most 10 characters
/// (Segment's MAX_PATTERN_LENGTH / MAX_REPLACEMENT_LENGTH, checked at start).
/// </summary>
static class MappingKitReplace
{
    public static MappedValue Run(JsonObject? opts, JsonNode? payload)
    {
        if (opts is null || !MappingKitText.Truthy(opts["value"])) return MappedValue.Undefined;
        var value = MappingKit.Resolve(opts["value"], payload).Value;
        var text = value is JsonValue v && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False
            ? MappingKitText.JsString(value)
            : null;
        if (text is null) return MappedValue.Of("");
        var ignoreCase = opts["ignorecase"] is JsonValue ic && ic.GetValueKind() == JsonValueKind.True;
        var global = opts["global"] is not JsonValue g || g.GetValueKind() != JsonValueKind.False;
        var result = Replace(text, (string)opts["pattern"]!, (string?)opts["replacement"] ?? "", ignoreCase, global);
        if (opts["pattern2"] is JsonValue p2 && p2.GetValueKind() == JsonValueKind.String && p2.GetValue<string>().Length > 0)
            result = Replace(result, p2.GetValue<string>(), (string?)opts["replacement2"] ?? "", ignoreCase, global);
        return MappedValue.Of(result);
    }

    static string Replace(string value, string pattern, string replacement, bool ignoreCase, bool global)
    {
        var regex = new Regex(Regex.Escape(pattern), ignoreCase ? RegexOptions.IgnoreCase | RegexOptions.CultureInvariant : RegexOptions.None,
            TimeSpan.FromMilliseconds(100));
        return regex.Replace(value, m => JsReplacement(replacement, value, m), global ? -1 : 1);
    }

    /// <summary>String.prototype.replace's replacement patterns for a pattern without capture groups.</summary>
    static string JsReplacement(string replacement, string input, Match m)
    {
        if (!replacement.Contains('$')) return replacement;
        var sb = new System.Text.StringBuilder(replacement.Length);
        for (var i = 0; i < replacement.Length; i++)
        {
            if (replacement[i] != '$' || i + 1 >= replacement.Length) { sb.Append(replacement[i]); continue; }
            switch (replacement[i + 1])
            {
                case '$': sb.Append('$'); i++; break;
                case '&': sb.Append(m.Value); i++; break;
                case '`': sb.Append(input, 0, m.Index); i++; break;
                case '\'': sb.Append(input, m.Index + m.Length, input.Length - m.Index - m.Length); i++; break;
                default: sb.Append('$'); break;
            }
        }
        return sb.ToString();
    }
}
