using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Selligent;

/// <summary>
/// One row of the events data list as a JSON object {column: value} (docs/partners/selligent.md "Mapping"). Every column is
/// present (null when the event has no value), so rows of one list share a header and the connection test can check them all.
/// <see cref="SelligentLoadBody"/> turns rows into the array-of-arrays body of <c>data/load</c>.
/// </summary>
public static class SelligentEventRow
{
    public static PartnerRequest Request(SegmentEvent e, string userId, SelligentSettings settings) =>
        PartnerRequest.Post(SelligentApi.Steps.EventRow, settings.EventsLoadPath, Row(e, userId, settings.Columns));

    public static JsonObject Row(SegmentEvent e, string userId, SelligentColumns c)
    {
        var isTraitsCall = e.Type is CallTypes.Identify or CallTypes.Group;
        return new JsonObject
        {
            [c.MessageId] = e.MessageId,
            [c.EventType] = e.Type,
            [c.EventName] = e.Type switch
            {
                CallTypes.Track => e.Event,
                CallTypes.Page or CallTypes.Screen => e.Name,
                _ => null,
            },
            [c.UserId] = userId,
            [c.AnonymousId] = SelligentMapper.Text(e.Json["anonymousId"]),
            [c.PreviousId] = e.Type == CallTypes.Alias ? SelligentMapper.Text(e.Json["previousId"]) : null,
            [c.GroupId] = e.Type == CallTypes.Group ? SelligentMapper.Text(e.Json["groupId"]) : null,
            [c.EventTimestamp] = Timestamp(e),
            // JSON text, not a nested object: SMC list columns hold scalars. Engage booleans travel inside (D10).
            [c.Properties] = JsonText(isTraitsCall ? e.Traits : e.Properties),
            [c.Context] = JsonText(e.Context),
        };
    }

    /// <summary>
    /// ISO-8601 UTC with milliseconds, from <c>timestamp</c>, else <c>originalTimestamp</c>, else <c>receivedAt</c>
    /// (the first one that parses); null when none does — no time is invented.
    /// </summary>
    public static string? Timestamp(SegmentEvent e)
    {
        foreach (var name in new[] { "timestamp", "originalTimestamp", "receivedAt" })
            if (e.StringAt(name) is { } raw
                && DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
                return SegmentEventReader.Iso(t); // the service's one ISO-8601 UTC-with-milliseconds writer
        return null;
    }

    /// <summary>Compact JSON text of an object; <c>{}</c> when absent (so the column always holds valid JSON).</summary>
    static string JsonText(JsonObject? node) => node?.ToJsonString(Compact) ?? "{}";

    /// <summary>Compact, and readable in SMC: the text lands in a list column, not in HTML, so "'", "&amp;", "+" and
    /// non-ASCII stay as they are (still valid JSON).</summary>
    static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
