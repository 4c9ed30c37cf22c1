using System.Text.Json;
using System.Text.Json.Nodes;

namespace Destinations.Core.Delivery;

/// <summary>The partner kit's reading of event values as partners get them.</summary>
public static class PartnerValues
{
    /// <summary>
    /// An id or text as a partner gets it: a non-empty string, or a number's JSON text (ingress stores ids as strings, D3, but
    /// a stored event that escaped coercion is not silently dropped); null for anything else. An empty string is no id (it
    /// would key every such event to one contact).
    /// </summary>
    public static string? Text(JsonNode? node) => node is JsonValue v
        ? v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>() is { Length: > 0 } s ? s : null,
            JsonValueKind.Number => v.ToJsonString(),
            _ => null,
        }
        : null;

    /// <summary><see cref="Text(JsonNode?)"/> for a value read from <see cref="Segment.SegmentEvent.ToJsonElement"/>: the same
    /// text for the same JSON (a number as written).</summary>
    public static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() is { Length: > 0 } s ? s : null,
        JsonValueKind.Number => value.GetRawText(),
        _ => null,
    };

    /// <summary>The member <paramref name="name"/> of <paramref name="value"/> when it is an object that has one; else an
    /// undefined element (whose <see cref="JsonElement.ValueKind"/> is <see cref="JsonValueKind.Undefined"/>).</summary>
    public static JsonElement Member(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Object && value.TryGetProperty(name, out var member) ? member : default;

    /// <summary>A partner-body node for an element: a new node over the element's (immutable) bytes, so nothing is copied
    /// until it is changed; null for JSON null or an undefined element.</summary>
    public static JsonNode? Node(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => JsonObject.Create(value),
        JsonValueKind.Array => JsonArray.Create(value),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => JsonValue.Create(value),
    };
}
