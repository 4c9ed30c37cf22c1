using System.Text.Json;
using System.Text.Json.Nodes;

namespace Destinations.Core.Segment;

/// <summary>
/// One Segment event (Spec: identify, track, page, screen, group, alias, delete) after ingress normalisation:
/// <c>type</c> lower-case, ids coerced to strings (D3), batch envelope merged (D3), <c>receivedAt</c> set.
/// The typed properties are read from <see cref="Json"/>, which is the event exactly as stored and passed through
/// (unknown fields included). Treat <see cref="Json"/> as read-only: a mapper that copies a sub-tree into a partner
/// body must <c>DeepClone()</c> it (a JsonNode has one parent).
/// An event read at the ingress is held as its normalised UTF-8 JSON plus the typed fields; its DOM (<see cref="Json"/>) is
/// only built when something asks for it (a subscription condition, a mapper), so storing an event costs no DOM at all.
/// </summary>
public sealed class SegmentEvent
{
    JsonObject? _json;
    readonly byte[]? _utf8;
    readonly byte[]? _integrationsUtf8;
    JsonObject? _integrations;

    public SegmentEvent(JsonObject json)
    {
        _json = json;
        Type = Str("type") ?? "";
        MessageId = Str("messageId") ?? "";
        UserId = Str("userId");
        AnonymousId = Str("anonymousId");
        GroupId = Str("groupId");
        PreviousId = Str("previousId");
        Event = Str("event");
        Name = Str("name");
        Category = Str("category");
        ReceivedAt = Str("receivedAt");
    }

    /// <summary>An event as the ingress wrote it (<see cref="SegmentEventReader"/>): its JSON and the fields read from it.</summary>
    internal SegmentEvent(byte[] utf8, byte[]? integrationsUtf8, in EventFields fields)
    {
        _utf8 = utf8;
        _integrationsUtf8 = integrationsUtf8;
        Type = fields.Type;
        MessageId = fields.MessageId;
        UserId = fields.UserId;
        AnonymousId = fields.AnonymousId;
        GroupId = fields.GroupId;
        PreviousId = fields.PreviousId;
        Event = fields.Event;
        Name = fields.Name;
        Category = fields.Category;
        ReceivedAt = fields.ReceivedAt;
    }

    /// <summary>The typed fields of an event, as the reader found them.</summary>
    internal readonly record struct EventFields(
        string Type, string MessageId, string? UserId, string? AnonymousId, string? GroupId, string? PreviousId,
        string? Event, string? Name, string? Category, string? ReceivedAt);

    /// <summary>The whole event as a DOM (built on first use for an event read at the ingress).</summary>
    public JsonObject Json => _json ?? LazyInitializer.EnsureInitialized(ref _json, () => Parse(_utf8!));
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
    /// <summary>When the ingress received the event (ISO-8601), or as sent.</summary>
    public string? ReceivedAt { get; }

    public JsonObject? Traits => Json["traits"] as JsonObject;
    public JsonObject? Properties => Json["properties"] as JsonObject;
    public JsonObject? Context => Json["context"] as JsonObject;
    /// <summary>The Integrations object (D9). For an event read at the ingress only this small object is parsed, so routing
    /// never builds the whole DOM.</summary>
    public JsonObject? Integrations => _utf8 is null
        ? Json["integrations"] as JsonObject
        : _integrationsUtf8 is null ? null : _integrations ?? LazyInitializer.EnsureInitialized(ref _integrations, () => Parse(_integrationsUtf8));

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

    public string ToJsonString() => _utf8 is not null ? System.Text.Encoding.UTF8.GetString(_utf8) : Json.ToJsonString();

    /// <summary>The event's JSON as UTF-8.</summary>
    public ReadOnlyMemory<byte> ToUtf8Json() => _utf8 ?? JsonSerializer.SerializeToUtf8Bytes(Json);

    public static SegmentEvent FromStored(string json) =>
        new(JsonNode.Parse(json) as JsonObject ?? throw new FormatException("stored event is not a JSON object"));

    static JsonObject Parse(byte[] utf8) =>
        JsonNode.Parse(utf8) as JsonObject ?? throw new FormatException("the event is not a JSON object");

    string? Str(string name) =>
        Json[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
