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
    public const string NoUserIdReason = "no userId: SMC's business key";

    public static MappingResult Map(SegmentEvent e, SelligentSettings settings)
    {
        // Setting gates first (D8): when a call type is switched off, that is the reason, not a missing id.
        var gate = e.Type switch
        {
            CallTypes.Identify => null,
            CallTypes.Track => TrackGate(e, settings),
            CallTypes.Page => settings.SendPageEvents ? null : "page events are off (SendPageEvents is false)",
            CallTypes.Screen => settings.SendScreenEvents ? null : "screen events are off (SendScreenEvents is false)",
            CallTypes.Alias => settings.SendAliasEvents ? null : "alias events are off (SendAliasEvents is false)",
            CallTypes.Group => settings.SendGroupEvents ? null : "group events are off (SendGroupEvents is false)",
            _ => $"{(e.Type.Length == 0 ? "untyped" : e.Type)} calls are not accepted by Selligent Marketing Cloud",
        };
        if (gate is not null) return MappingResult.Filtered(gate);

        var userId = Text(e.Json["userId"]);
        if (userId is null) return MappingResult.Filtered(NoUserIdReason); // D19

        var row = SelligentEventRow.Request(e, userId, settings);
        return e.Type == CallTypes.Group ? SelligentGroupMapping.Map(e, userId, settings, row) : MappingResult.Send(row);
    }

    /// <summary>Exact, case-sensitive allow-list match (D19); Engage Audience Entered/Exited tracks go through it too.</summary>
    static string? TrackGate(SegmentEvent e, SelligentSettings settings)
    {
        if (string.IsNullOrEmpty(e.Event)) return "track without an event name cannot match AllowedEvents";
        if (settings.AllowedEvents.Contains(e.Event)) return null;
        return settings.AllowedEvents.Count == 0
            ? $"track event '{e.Event}' not in AllowedEvents (the list is empty)"
            : $"track event '{e.Event}' not in AllowedEvents";
    }

    /// <summary>
    /// A non-empty string, or a number's JSON text (ingress coerces ids to strings, D3, but a stored event that escaped
    /// coercion is not silently dropped); null for anything else. An empty string is no id.
    /// </summary>
    internal static string? Text(JsonNode? node) => node is JsonValue v
        ? v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>() is { Length: > 0 } s ? s : null,
            JsonValueKind.Number => v.ToJsonString(),
            _ => null,
        }
        : null;
}
