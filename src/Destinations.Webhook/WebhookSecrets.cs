using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Destinations.Webhook;

/// <summary>
/// <c>{{secrets.NAME}}</c> in a mapping's <c>url</c> and <c>headers</c> (D29). A plan, a dry-run, a log line and a stored
/// request hold the placeholder; the value from <c>Settings.Secrets</c> is put in only when the request is built for sending,
/// so no stored or shown form of a request can contain it. Inside <c>@template</c> the placeholder would otherwise be read as
/// the event path <c>secrets.NAME</c>: at load it is swapped for a marker the template engine leaves alone, and swapped back
/// after mapping.
/// </summary>
public static partial class WebhookSecrets
{
    const char Open = '\uE000';
    const char Close = '\uE001';

    public static bool IsName(string name) => NamePattern().IsMatch(name);

    /// <summary>The secret names a text refers to.</summary>
    public static IEnumerable<string> Names(string text) => Placeholder().Matches(text).Select(m => m.Groups[1].Value);

    /// <summary>A copy of a field mapping with every placeholder in its strings (keys included) swapped for the marker; the names seen are added to <paramref name="names"/>.</summary>
    public static JsonNode? Protect(JsonNode? mapping, ISet<string> names) => mapping switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(Protect(p.Key, names), Protect(p.Value, names)))),
        JsonArray a => new JsonArray(a.Select(i => Protect(i, names)).ToArray()),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => JsonValue.Create(Protect(v.GetValue<string>(), names)),
        _ => mapping?.DeepClone(),
    };

    static string Protect(string text, ISet<string> names) =>
        Placeholder().Replace(text, m =>
        {
            names.Add(m.Groups[1].Value);
            return $"{Open}{m.Groups[1].Value}{Close}";
        });

    /// <summary>The marker back to <c>{{secrets.NAME}}</c>, after mapping.</summary>
    public static string Restore(string text) =>
        text.Contains(Open) ? Marker().Replace(text, m => $"{{{{secrets.{m.Groups[1].Value}}}}}") : text;

    /// <summary>
    /// Puts the secrets' values in. Only names the instance's mappings use in this field are replaced (<paramref name="allowed"/>):
    /// a placeholder that arrived in event data cannot move a secret into a field that never held it.
    /// </summary>
    public static string Substitute(string text, IReadOnlyDictionary<string, string> secrets, IReadOnlySet<string>? allowed = null) =>
        Placeholder().Replace(text, m =>
            (allowed is null || allowed.Contains(m.Groups[1].Value)) && secrets.TryGetValue(m.Groups[1].Value, out var value) ? value : m.Value);

    /// <summary>The text with each placeholder replaced by a plain word, for checks of a URL's shape before the values are in.</summary>
    public static string WithoutPlaceholders(string text) => Placeholder().Replace(text, "secret");

    /// <summary>Replaces every secret value in a text meant for people (a partner's answer may echo a token back).</summary>
    public static string? Scrub(string? text, IEnumerable<string> secretValues)
    {
        if (string.IsNullOrEmpty(text)) return text;
        foreach (var secret in secretValues.OrderByDescending(s => s.Length))
            text = text.Replace(secret, "********", StringComparison.Ordinal);
        return text;
    }

    [GeneratedRegex(@"\{\{\s*secrets\.([A-Za-z0-9_\-]+)\s*\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex("\uE000([A-Za-z0-9_\\-]+)\uE001")]
    private static partial Regex Marker();

    [GeneratedRegex(@"^[A-Za-z0-9_\-]+$")]
    private static partial Regex NamePattern();
}
