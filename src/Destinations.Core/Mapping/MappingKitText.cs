using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Destinations.Core.Mapping;

/// <summary>Path lookup and template rendering with the semantics of Segment's mapping-kit (<c>get</c>, <c>render</c>).</summary>
public static partial class MappingKitText
{
    /// <summary>
    /// <c>$.a.b[0].c</c> → the node there, split as Segment's <c>get</c> does (packages/core/src/get.ts): only the first
    /// <c>$.</c> is removed; <c>.</c> separates keys; <c>[</c> before a digit or quote and <c>]</c> after one separate too, and
    /// quotes are dropped (<c>a['b c']</c> is the key "b c"); any other bracket is part of the key (<c>a[b]</c>). An empty
    /// path is the payload itself.
    /// </summary>
    public static MappedValue Get(JsonNode? payload, string path)
    {
        var p = path.IndexOf("$.", StringComparison.Ordinal) is var i and >= 0 ? path.Remove(i, 2) : path;
        if (p is "" or ".") return MappedValue.Of(payload?.DeepClone());
        JsonNode? node = payload;
        foreach (var raw in PathSplit().Split(p))
        {
            if (raw.Length == 0) continue;
            var key = raw.Replace("'", "").Replace("\"", "");
            switch (node)
            {
                case JsonObject o when o.TryGetPropertyValue(key, out var child):
                    node = child;
                    break;
                case JsonArray a when int.TryParse(key, out var index) && index >= 0 && index < a.Count:
                    node = a[index];
                    break;
                default:
                    return MappedValue.Undefined;
            }
        }
        return MappedValue.Of(node?.DeepClone());
    }

    /// <summary>
    /// <c>{{path}}</c> and <c>{{{path}}}</c> are replaced by the value as JavaScript's <c>String()</c> writes it, a missing or
    /// null value by "" — exactly as Segment's <c>render</c> (mapping-kit placeholders.ts; it stopped HTML-escaping
    /// <c>{{path}}</c>, so "O'Brien &lt;b&gt;" stays as it is).
    /// </summary>
    public static string Render(string template, JsonNode? payload)
    {
        var raw = Triple().Replace(template, m => JsString(Get(payload, m.Groups[1].Value.Trim()).Value));
        return Double().Replace(raw, m => JsString(Get(payload, m.Groups[1].Value.Trim()).Value));
    }

    /// <summary>
    /// The keys <see cref="Get"/> walks for <paramref name="path"/>, split as it splits them; null when the path is the
    /// payload itself. For reading the path somewhere other than a DOM.
    /// </summary>
    public static string[]? PathKeys(string path)
    {
        var p = path.IndexOf("$.", StringComparison.Ordinal) is var i and >= 0 ? path.Remove(i, 2) : path;
        if (p is "" or ".") return null;
        return PathSplit().Split(p).Where(raw => raw.Length > 0).Select(raw => raw.Replace("'", "").Replace("\"", "")).ToArray();
    }

    /// <summary><see cref="Render(string, JsonNode?)"/> with each placeholder's path given to <paramref name="valueOf"/>, which
    /// returns the value's <see cref="JsString"/>: for rendering against something other than a DOM.</summary>
    public static string Render(string template, Func<string, string> valueOf)
    {
        var raw = Triple().Replace(template, m => valueOf(m.Groups[1].Value.Trim()));
        return Double().Replace(raw, m => valueOf(m.Groups[1].Value.Trim()));
    }

    /// <summary>JavaScript's <c>String(value)</c> for a JSON value; null and undefined give "".</summary>
    public static string JsString(JsonNode? node) => node switch
    {
        null => "",
        JsonObject => "[object Object]",
        JsonArray a => string.Join(",", a.Select(JsString)),
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => node.GetValue<string>(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => node.ToJsonString(),
        },
    };

    /// <summary>JavaScript truthiness of a mapping value (Segment tests <c>opts.else</c>, <c>opts.value</c> this way).</summary>
    public static bool Truthy(JsonNode? node) => node switch
    {
        null => false,
        JsonObject or JsonArray => true,
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => node.GetValue<string>().Length > 0,
            JsonValueKind.Number => node.GetValue<double>() is var d && d != 0 && !double.IsNaN(d),
            JsonValueKind.False or JsonValueKind.Null => false,
            _ => true,
        },
    };

    /// <summary>JavaScript's <c>value == ''</c>: "", 0, false and arrays that print as "" (used by <c>@if blank</c>).</summary>
    public static bool LooselyEmpty(JsonNode? node) => node switch
    {
        null => false,
        JsonObject => false,
        JsonArray => JsString(node).Length == 0,
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => node.GetValue<string>().Length == 0,
            JsonValueKind.Number => node.GetValue<double>() == 0,
            JsonValueKind.False => true,
            _ => false,
        },
    };

    // Segment's arrayRe: \[(?="|'|\d)|\.|(?<="|'|\d)]+
    [GeneratedRegex("""\[(?="|'|\d)|\.|(?<="|'|\d)]+""")]
    private static partial Regex PathSplit();

    [GeneratedRegex(@"\{\{\{([^}]+)\}\}\}")]
    private static partial Regex Triple();

    [GeneratedRegex(@"\{\{([^}]+)\}\}")]
    private static partial Regex Double();
}
