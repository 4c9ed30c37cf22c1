using System.Text.Json;
using System.Text.Json.Nodes;

namespace Destinations.Core.Segment;

/// <summary>
/// One Segment event (Spec: identify, track, page, screen, group, alias, delete) after ingress normalisation:
/// <c>type</c> lower-case, ids coerced to strings (D3), batch envelope merged (D3), <c>receivedAt</c> set.
/// The typed properties are read from <see cref="Json"/>, which is the event exactly as stored and passed through
/// (unknown fields included). Treat <see cref="Json"/> as read-only: a mapper that copies a sub-tree into a partner
/// body must <c>DeepClone()</c> it (a JsonNode has one parent).
/// </summary>
public sealed class SegmentEvent
{
    public SegmentEvent(JsonObject json)
    {
        Json = json;
        Type = Str("type") ?? "";
        MessageId = Str("messageId") ?? "";
        UserId = Str("userId");
        AnonymousId = Str("anonymousId");
        GroupId = Str("groupId");
        PreviousId = Str("previousId");
        Event = Str("event");
        Name = Str("name");
        Category = Str("category");
    }

    public JsonObject Json { get; }
    public string Type { get; }
    public string MessageId { get; }
    public string? UserId { get; }
    public string? AnonymousId { get; }
    public string? GroupId { get; }
    public string? PreviousId { get; }
    /// <summary>track: the event name.</summary>
    public string? Event { get; }
    /// <summary>page/screen: the page or screen name.</summary>
    public string? Name { get; }
    /// <summary>page: the page category.</summary>
    public string? Category { get; }

    public JsonObject? Traits => Json["traits"] as JsonObject;
    public JsonObject? Properties => Json["properties"] as JsonObject;
    public JsonObject? Context => Json["context"] as JsonObject;
    public JsonObject? Integrations => Json["integrations"] as JsonObject;

    /// <summary>The key a user is known by: userId, else anonymousId (D16).</summary>
    public string? UserKey => !string.IsNullOrEmpty(UserId) ? UserId : AnonymousId;

    /// <summary>Reads a string at a dotted path under the event (e.g. <c>context.page.url</c>); null when absent or not a string.</summary>
    public string? StringAt(string dottedPath)
    {
        JsonNode? node = Json;
        foreach (var part in dottedPath.Split('.'))
        {
            node = (node as JsonObject)?[part];
            if (node is null) return null;
        }
        return node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
    }

    public string ToJsonString() => Json.ToJsonString();

    public static SegmentEvent FromStored(string json) =>
        new(JsonNode.Parse(json) as JsonObject ?? throw new FormatException("stored event is not a JSON object"));

    string? Str(string name) =>
        Json[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
