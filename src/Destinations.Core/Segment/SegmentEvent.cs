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
/// An event read back from the store (<see cref="FromStored"/>) is held as a read-only <see cref="JsonElement"/> with the
/// typed fields read from it in one pass; a mapper that only reads and copies uses <see cref="ToJsonElement"/> and no DOM is
/// built for it.
/// </summary>
public sealed class SegmentEvent
{
    JsonObject? _json;
    readonly byte[]? _utf8;
    readonly byte[]? _integrationsUtf8;
    JsonObject? _integrations;
    /// <summary>The event as stored or as the ingress wrote it, parsed read-only; null until asked for (ingress) or for an
    /// event built from a DOM.</summary>
    JsonElement? _element;

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

    /// <summary>An event read back from the store: its typed fields read in one pass over the top level of the element.</summary>
    SegmentEvent(JsonElement stored)
    {
        _element = stored;
        string? type = null, messageId = null, userId = null, anonymousId = null, groupId = null, previousId = null,
            @event = null, name = null, category = null, receivedAt = null;
        foreach (var p in stored.EnumerateObject())
        {
            // Str's rule: only a string value counts.
            if (p.Value.ValueKind != JsonValueKind.String) continue;
            if (p.NameEquals("type"u8)) type = p.Value.GetString();
            else if (p.NameEquals("messageId"u8)) messageId = p.Value.GetString();
            else if (p.NameEquals("userId"u8)) userId = p.Value.GetString();
            else if (p.NameEquals("anonymousId"u8)) anonymousId = p.Value.GetString();
            else if (p.NameEquals("groupId"u8)) groupId = p.Value.GetString();
            else if (p.NameEquals("previousId"u8)) previousId = p.Value.GetString();
            else if (p.NameEquals("event"u8)) @event = p.Value.GetString();
            else if (p.NameEquals("name"u8)) name = p.Value.GetString();
            else if (p.NameEquals("category"u8)) category = p.Value.GetString();
            else if (p.NameEquals("receivedAt"u8)) receivedAt = p.Value.GetString();
        }
        Type = type ?? "";
        MessageId = messageId ?? "";
        UserId = userId;
        AnonymousId = anonymousId;
        GroupId = groupId;
        PreviousId = previousId;
        Event = @event;
        Name = name;
        Category = category;
        ReceivedAt = receivedAt;
    }

    /// <summary>The typed fields of an event, as the reader found them.</summary>
    internal readonly record struct EventFields(
        string Type, string MessageId, string? UserId, string? AnonymousId, string? GroupId, string? PreviousId,
        string? Event, string? Name, string? Category, string? ReceivedAt);

    /// <summary>The whole event as a DOM (built on first use for an event read at the ingress).</summary>
    public JsonObject Json => _json ?? LazyInitializer.EnsureInitialized(ref _json, BuildJson);

    JsonObject BuildJson() =>
        _element is { } element ? JsonObject.Create(element)! : Parse(_utf8!);

    /// <summary>
    /// The event as a read-only element, for a mapper that reads values and copies sub-trees into a partner body without a
    /// DOM: the stored (or ingress-written) JSON while <see cref="Json"/> has not been built; once it has (a filter may have
    /// changed it in place), a snapshot of it as it is now. A sub-tree copied from it into a partner body needs no
    /// <c>DeepClone()</c>: <c>JsonObject.Create(element)</c> is a new node over the same immutable bytes.
    /// </summary>
    public JsonElement ToJsonElement()
    {
        if (_json is { } json) return JsonSerializer.SerializeToElement(json);
        if (_element is { } element) return element;
        var parsed = JsonElement.Parse(_utf8!);
        _element = parsed;
        return parsed;
    }
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

    public static SegmentEvent FromStored(string json)
    {
        var element = JsonElement.Parse(json);
        return element.ValueKind == JsonValueKind.Object ? new SegmentEvent(element) : throw new FormatException("stored event is not a JSON object");
    }

    static JsonObject Parse(byte[] utf8) =>
        JsonNode.Parse(utf8) as JsonObject ?? throw new FormatException("the event is not a JSON object");

    string? Str(string name) =>
        Json[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
