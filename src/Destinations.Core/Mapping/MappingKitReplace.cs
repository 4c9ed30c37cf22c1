using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Destinations.Core.Mapping;

/// <summary>
/// <c>@replace</c>: <c>{"pattern", "replacement"?, "pattern2"?, "replacement2"?, "ignorecase"? (false), "global"? (true), "value"}</c>.
/// The pattern is plain text, not a regular expression (Segment escapes it). Numbers and booleans are replaced in their text;
/// any other value gives "" — Segment's behaviour, and an empty string is then removed like a missing value.
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
        // A MatchEvaluator keeps the replacement literal ("$1" is not a group reference).
        return regex.Replace(value, _ => replacement, global ? -1 : 1);
    }
}
