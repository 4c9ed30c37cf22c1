using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Destinations.Host.OperatorConsole;

/// <summary>How the console writes times, ages and JSON. Razor encodes whatever these return.</summary>
public static class ConsoleFormat
{
    /// <summary>With a resolver: a node holding a .NET value (a mapper's copied sub-tree, Utf8Json.Node) is written through
    /// the options it is written with, and options without one cannot be made read-only.</summary>
    static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    public static string Time(DateTimeOffset? t) => t is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "";

    public static string Age(TimeSpan age) => age.TotalSeconds < 90 ? $"{Math.Max(0, (int)age.TotalSeconds)} s"
        : age.TotalMinutes < 90 ? $"{(int)age.TotalMinutes} min"
        : age.TotalHours < 48 ? $"{age.TotalHours:0.#} h"
        : $"{age.TotalDays:0.#} d";

    /// <summary>Indented JSON for reading; the text as it is when it is not JSON. (Relaxed escaping is safe here: the result is
    /// HTML-encoded when rendered, never placed in a script.)</summary>
    public static string Pretty(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return "";
        try
        {
            return JsonNode.Parse(json)?.ToJsonString(Indented) ?? json;
        }
        catch (JsonException)
        {
            return json;
        }
    }

    public static string Pretty(JsonNode? node) => node?.ToJsonString(Indented) ?? "";

    /// <summary>The value of a datetime-local input, read as UTC.</summary>
    public static DateTimeOffset? ParseUtc(string? value) =>
        DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)
            ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;

    public static string LocalInput(DateTimeOffset? t) => t is { } v ? v.UtcDateTime.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture) : "";
}
