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
}
