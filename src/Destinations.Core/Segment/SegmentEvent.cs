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
/// An event read back from the store (<see cref="FromStored"/>) is held the same way: its UTF-8 bytes and the typed fields,
/// read in one pass; a mapper that reads values and copies sub-trees from <see cref="CurrentUtf8Json"/> builds no DOM.
/// </summary>
public sealed class SegmentEvent
{
    JsonObject? _json;
    readonly byte[]? _utf8;
    readonly byte[]? _integrationsUtf8;
    JsonObject? _integrations;
    /// <summary>Read back from the store: the DOM, once built, is the caller's copy to change (a destination filter does),
    /// so <see cref="CurrentUtf8Json"/> writes it then rather than returning the stored bytes.</summary>
    readonly bool _stored;
    /// <summary>Read back from the store: per member, the start and length of its name (unescaped) and of its value in
    /// <see cref="_utf8"/>, so a mapper finds members without another pass; null when a name was escaped.</summary>
    readonly int[]? _members;
    readonly int _memberCount;

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

    /// <summary>An event read back from the store.</summary>
    SegmentEvent(byte[] utf8, in EventFields fields, int[]? members, int memberCount) : this(utf8, null, fields)
    {
        _stored = true;
        _members = members;
        _memberCount = memberCount;
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
    public JsonObject? Integrations => _utf8 is null || _stored
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

    public string ToJsonString() => _utf8 is not null && !_stored ? System.Text.Encoding.UTF8.GetString(_utf8) : Json.ToJsonString();

    /// <summary>The event's JSON as UTF-8.</summary>
    public ReadOnlyMemory<byte> ToUtf8Json() => _utf8 is not null && !_stored ? _utf8 : JsonSerializer.SerializeToUtf8Bytes(Json);

    /// <summary>
    /// The event's JSON as UTF-8 as it is now, for a mapper that reads it without a DOM (<see cref="Mapping.Utf8Json"/>): the
    /// stored or ingress-written bytes while <see cref="Json"/> has not been built, else the DOM written (a destination filter
    /// may have changed it in place). Not necessarily compact or escaped as a writer would write it.
    /// </summary>
    public ReadOnlyMemory<byte> CurrentUtf8Json() => _json is null && _utf8 is not null ? _utf8 : JsonSerializer.SerializeToUtf8Bytes(_json ?? Json);

    /// <summary>
    /// The values of the event's members <paramref name="names"/> (UTF-8) as written in <see cref="CurrentUtf8Json"/>: what
    /// <see cref="Mapping.Utf8Json.Members"/> finds there, for an event read back from the store from the positions its
    /// read recorded (no second pass).
    /// </summary>
    public ReadOnlyMemory<byte>[] CurrentMembers(byte[][] names)
    {
        if (_json is not null || _members is null) return Mapping.Utf8Json.Members(CurrentUtf8Json(), names);
        var found = new ReadOnlyMemory<byte>[names.Length];
        var utf8 = _utf8!;
        for (var m = 0; m < _memberCount; m++)
        {
            var name = utf8.AsSpan(_members[4 * m], _members[4 * m + 1]);
            for (var i = 0; i < names.Length; i++)
                if (name.SequenceEqual(names[i])) found[i] = utf8.AsMemory(_members[4 * m + 2], _members[4 * m + 3]);
        }
        return found;
    }

    /// <summary>
    /// An event as the store holds it: its UTF-8 bytes and the typed fields, read in one pass over its members (the values
    /// of the others are skipped, which still checks that they are well-formed). The DOM is built only when asked for.
    /// </summary>
    public static SegmentEvent FromStored(string json) => FromStored(System.Text.Encoding.UTF8.GetBytes(json));

    /// <summary><see cref="FromStored(string)"/> on UTF-8 the caller hands over (it must not change it afterwards).</summary>
    internal static SegmentEvent FromStored(byte[] utf8)
    {
        var r = new Utf8JsonReader(utf8);
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject) throw new FormatException("stored event is not a JSON object");
        var values = new string?[StoredFields.Length];
        int[]? members = new int[4 * 24];
        var count = 0;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueIsEscaped) members = null;
            else if (members is not null)
            {
                if (4 * count == members.Length) Array.Resize(ref members, 2 * members.Length);
                members[4 * count] = (int)r.TokenStartIndex + 1; // after the quote
                members[4 * count + 1] = r.ValueSpan.Length;
            }
            var field = -1;
            for (var i = 0; i < StoredFields.Length && field < 0; i++)
                if (r.ValueTextEquals(StoredFields[i])) field = i;
            r.Read();
            // The DOM's rule (Str): a field is a string value, or absent; the last one when a name repeats.
            if (field >= 0) values[field] = r.TokenType == JsonTokenType.String ? r.GetString() : null;
            var start = (int)r.TokenStartIndex;
            r.Skip();
            if (members is not null)
            {
                members[4 * count + 2] = start;
                members[4 * count + 3] = (int)r.BytesConsumed - start;
                count++;
            }
        }
        while (r.Read()) { } // anything after the object is malformed JSON, as JsonNode.Parse would say
        return new SegmentEvent(utf8, new EventFields(values[0] ?? "", values[1] ?? "", values[2], values[3], values[4], values[5],
            values[6], values[7], values[8], values[9]), members, count);
    }

    /// <summary>The stored bytes while no DOM has been built (a property filter can then rewrite them instead of building
    /// one); null for an event read at the ingress or one whose DOM exists.</summary>
    internal byte[]? StoredUtf8WithoutDom => _stored && _json is null ? _utf8 : null;

    /// <summary>The typed fields in <see cref="EventFields"/> order.</summary>
    static readonly byte[][] StoredFields = Array.ConvertAll(
        ["type", "messageId", "userId", "anonymousId", "groupId", "previousId", "event", "name", "category", "receivedAt"],
        System.Text.Encoding.UTF8.GetBytes);

    static JsonObject Parse(byte[] utf8) =>
        JsonNode.Parse(utf8) as JsonObject ?? throw new FormatException("the event is not a JSON object");

    string? Str(string name) =>
        Json[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
