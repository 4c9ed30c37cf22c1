using System.Globalization;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Destinations.Core.Segment;

namespace Destinations.Selligent;

/// <summary>
/// One row of the events data list as a JSON object {column: value} (docs/partners/selligent.md "Mapping"). Every column is
/// present (null when the event has no value), so rows of one list share a header and the connection test can check them all.
/// <see cref="SelligentLoadBody"/> turns rows into the array-of-arrays body of <c>data/load</c>.
/// </summary>
public static class SelligentEventRow
{
    /// <param name="members">The event's members as <see cref="SelligentMapper"/> read them (empty when absent).</param>
    public static PartnerRequest Request(SegmentEvent e, ReadOnlyMemory<byte>[] members, string userId, SelligentSettings settings) =>
        PartnerRequest.Post(SelligentApi.Steps.EventRow, settings.EventsLoadPath, Row(e, members, userId, settings.Columns));

    public static JsonObject Row(SegmentEvent e, ReadOnlyMemory<byte>[] members, string userId, SelligentColumns c)
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
            [c.AnonymousId] = Utf8Json.Text(members[SelligentMapper.AnonymousIdAt]),
            [c.PreviousId] = e.Type == CallTypes.Alias ? Utf8Json.Text(members[SelligentMapper.PreviousIdAt]) : null,
            [c.GroupId] = e.Type == CallTypes.Group ? Utf8Json.Text(members[SelligentMapper.GroupIdAt]) : null,
            [c.EventTimestamp] = Timestamp(members),
            // JSON text, not a nested object: SMC list columns hold scalars. Engage booleans travel inside (D10).
            [c.Properties] = JsonText(members[isTraitsCall ? SelligentMapper.TraitsAt : SelligentMapper.PropertiesAt]),
            [c.Context] = JsonText(members[SelligentMapper.ContextAt]),
        };
    }

    /// <summary>
    /// ISO-8601 UTC with milliseconds, from <c>timestamp</c>, else <c>originalTimestamp</c>, else <c>receivedAt</c>
    /// (the first string that parses); null when none does — no time is invented.
    /// </summary>
    public static string? Timestamp(ReadOnlyMemory<byte>[] members)
    {
        for (var i = SelligentMapper.TimestampAt; i < SelligentMapper.TimestampAt + SelligentMapper.TimestampSources; i++)
            if (Utf8Json.StringOf(members[i]) is { } raw
                && DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
                return SegmentEventReader.Iso(t); // the service's one ISO-8601 UTC-with-milliseconds writer
        return null;
    }

    /// <summary>
    /// Compact JSON text of an object as written in the event; <c>{}</c> when absent or not an object (so the column always
    /// holds valid JSON). Readable in SMC: the text lands in a list column, not in HTML, so "'", "&amp;", "+" and non-ASCII
    /// stay as they are (<see cref="Utf8Json.RelaxedText"/>, still valid JSON).
    /// </summary>
    static string JsonText(ReadOnlyMemory<byte> value) => Utf8Json.IsObject(value) ? Utf8Json.RelaxedText(value) : "{}";
}
