using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Selligent;

/// <summary>
/// Pure: one Segment event + the instance's settings → the SMC requests (D11), or why none are sent (D8). Implements the
/// table in docs/partners/selligent.md "Mapping"; the test fixtures pin every call type × setting combination.
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

        // userId is SMC's business key (D19 in docs/decisions.md).
        var userId = Text(e.Json["userId"]);
        if (userId is null) return MappingResult.Filtered(FilterReason.NoUserId);

        var row = SelligentEventRow.Request(e, userId, settings);
        return e.Type == CallTypes.Group ? SelligentGroupMapping.Map(e, userId, settings, row) : MappingResult.Send(row);
    }

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
