using System.Text.Json;
using System.Text.Json.Nodes;

namespace Destinations.Core.Mapping;

/// <summary>An action's resolved fields, or why the event cannot be sent with this mapping (final, not retried).</summary>
public sealed record ActionPayloadResult(JsonObject? Payload, string? InvalidReason)
{
    public bool IsValid => Payload is not null;
}

/// <summary>
/// Resolves a mapping's fields against an event and validates them like Segment does before <c>perform</c>: top-level null
/// values and empty strings are removed (docs/partners/usermotion.md "Actions"), then required fields and field types are checked.
/// </summary>
public static class ActionPayload
{
    public static ActionPayloadResult Build(ActionMapping mapping, JsonObject eventJson)
    {
        var payload = new JsonObject();
        foreach (var (key, fieldMapping) in mapping.Fields)
        {
            var value = MappingKit.Resolve(fieldMapping, eventJson);
            if (!value.Exists) continue;
            if (value.Value is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length == 0) continue;
            payload[key] = value.Value;
        }

        foreach (var field in mapping.Action.Fields)
            if (field.Required && !payload.ContainsKey(field.Key))
                return new(null, $"missing the required field '{field.Key}'");

        foreach (var field in mapping.Action.Fields)
        {
            if (payload[field.Key] is not { } node) continue;
            switch (field.Type)
            {
                case ActionFieldType.Object when node is not JsonObject:
                    return new(null, $"the field '{field.Key}' must be an object, got {Describe(node)}");
                case ActionFieldType.String when node is JsonObject or JsonArray:
                    return new(null, $"the field '{field.Key}' must be a string, got {Describe(node)}");
                case ActionFieldType.String when node.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    payload[field.Key] = MappingKitText.JsString(node);
                    break;
                case ActionFieldType.Number when node.GetValueKind() == JsonValueKind.Number:
                    break;
                case ActionFieldType.Number when node.GetValueKind() == JsonValueKind.String
                                                 && double.TryParse(node.GetValue<string>(), System.Globalization.NumberStyles.Float,
                                                     System.Globalization.CultureInfo.InvariantCulture, out var number):
                    payload[field.Key] = number;
                    break;
                case ActionFieldType.Number:
                    return new(null, $"the field '{field.Key}' must be a number, got {Describe(node)}");
                case ActionFieldType.StringList when node is JsonArray list:
                    if (list.Any(item => item is JsonObject or JsonArray || item is null))
                        return new(null, $"the field '{field.Key}' must be a list of strings");
                    payload[field.Key] = new JsonArray(list.Select(item => (JsonNode?)MappingKitText.JsString(item)).ToArray());
                    break;
                case ActionFieldType.StringList when node is JsonObject:
                    return new(null, $"the field '{field.Key}' must be a list of strings, got an object");
                case ActionFieldType.StringList:
                    payload[field.Key] = new JsonArray(MappingKitText.JsString(node));
                    break;
            }
        }
        return new(payload, null);
    }

    static string Describe(JsonNode node) => node switch
    {
        JsonObject => "an object",
        JsonArray => "an array",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            _ => "a boolean",
        },
    };
}
