using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Destinations.Core.Segment;

namespace Destinations.Selligent;

/// <summary>
/// Pure: one Segment event + the instance's settings → the SMC requests (D11), or why none are sent (D8). Implements the
/// table in docs/partners/selligent.md "Mapping"; the test fixtures pin every call type × setting combination.
/// It reads the event's bytes (<see cref="SegmentEvent.CurrentUtf8Json"/>) without a DOM: the requests are what mapping
/// through the DOM gave, byte for byte (StoredEventMappingTests).
/// </summary>
public static class SelligentMapper
{
    public static MappingResult Map(SegmentEvent e, SelligentSettings settings)
    {
        // Setting gates first (D8): when a call type is switched off, that is the reason, not a missing id.
        var gate = e.Type switch
        {
            CallTypes.Identify => null,
            CallTypes.Track => TrackGate(e, settings),
            CallTypes.Page => settings.SendPageEvents ? null : MappingResult.Filtered(FilterReason.PageEventsOff),
            CallTypes.Screen => settings.SendScreenEvents ? null : MappingResult.Filtered(FilterReason.ScreenEventsOff),
            CallTypes.Alias => settings.SendAliasEvents ? null : MappingResult.Filtered(FilterReason.AliasEventsOff),
            CallTypes.Group => settings.SendGroupEvents ? null : MappingResult.Filtered(FilterReason.GroupEventsOff),
            _ => MappingResult.Filtered(FilterReason.CallTypeNotAccepted, CallTypes.Describe(e.Type)),
        };
        if (gate is not null) return gate;

        var members = e.CurrentMembers(EventMembers);
        // userId is SMC's business key (D19 in docs/decisions.md).
        var userId = Utf8Json.Text(members[UserIdAt]);
        if (userId is null) return MappingResult.Filtered(FilterReason.NoUserId);

        var row = SelligentEventRow.Request(e, members, userId, settings);
        return e.Type == CallTypes.Group ? SelligentGroupMapping.Map(members, userId, settings, row) : MappingResult.Send(row);
    }

    /// <summary>The event members the mapping reads, in one pass over the event's bytes (<see cref="SegmentEvent.CurrentMembers"/>).</summary>
    static readonly byte[][] EventMembers = [.. new[]
    {
        "userId", "anonymousId", "previousId", "groupId", "traits", "properties", "context", "timestamp", "originalTimestamp", "receivedAt",
    }.Select(Encoding.UTF8.GetBytes)];

    internal const int UserIdAt = 0, AnonymousIdAt = 1, PreviousIdAt = 2, GroupIdAt = 3, TraitsAt = 4, PropertiesAt = 5, ContextAt = 6;
    /// <summary>timestamp, originalTimestamp, receivedAt: the event time's sources in order.</summary>
    internal const int TimestampAt = 7, TimestampSources = 3;

    /// <summary>Exact, case-sensitive allow-list match (D19); Engage Audience Entered/Exited tracks go through it too.</summary>
    static MappingResult? TrackGate(SegmentEvent e, SelligentSettings settings)
    {
        if (string.IsNullOrEmpty(e.Event)) return MappingResult.Filtered(FilterReason.EventNotAllowed, "track without an event name");
        if (settings.AllowedEvents.Contains(e.Event)) return null;
        return MappingResult.Filtered(FilterReason.EventNotAllowed,
            settings.AllowedEvents.Count == 0 ? $"'{e.Event}' (AllowedEvents is empty)" : $"'{e.Event}'");
    }

    /// <summary>
    /// A non-empty string, or a number's JSON text (ingress coerces ids to strings, D3, but a stored event that escaped
    /// coercion is not silently dropped); null for anything else. An empty string is no id.
    /// </summary>
    internal static string? Text(JsonNode? node) => PartnerValues.Text(node);
}
