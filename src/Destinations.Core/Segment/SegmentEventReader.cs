using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FluentValidation;

namespace Destinations.Core.Segment;

/// <summary>
/// Turns one parsed JSON value into a normalised <see cref="SegmentEvent"/> or the field errors that reject it
/// (segment-ingress.md §1, D3). Pure apart from the clock and the messageIds it generates; the JSON object is normalised in
/// place (it becomes the stored event).
/// </summary>
public sealed partial class SegmentEventReader(IValidator<SegmentEvent> validator, TimeProvider clock)
{
    /// <summary>Segment accepts numbers here and so do we (D3); objects and arrays are a 400.</summary>
    static readonly string[] IdFields = ["userId", "anonymousId", "groupId", "previousId"];
    static readonly string[] ObjectFields = ["traits", "properties", "context", "integrations"];
    static readonly string[] StringFields = ["event", "name", "category", "messageId", "channel"];
    static readonly string[] TimestampFields = ["timestamp", "originalTimestamp", "sentAt", "receivedAt"];

    public SegmentEventReader() : this(new SegmentEventValidator(), TimeProvider.System) { }

    /// <param name="node">The event as parsed.</param>
    /// <param name="index">Its position in a batch or array (0 for a single event).</param>
    /// <param name="impliedType">On <c>/v1/&lt;type&gt;</c> the path decides the type; a contradicting body type is overwritten (D3).</param>
    /// <param name="fieldPrefix">Prefixed to field names in errors, e.g. <c>batch[3].</c>.</param>
    public EventReadResult Read(JsonNode? node, int index = 0, string? impliedType = null, string fieldPrefix = "")
    {
        if (node is not JsonObject json)
        {
            var field = fieldPrefix.Length > 0 ? fieldPrefix.TrimEnd('.') : FieldError.Body;
            return EventReadResult.Invalid(index, null, [new FieldError(field, $"an event must be a JSON object, not {Kind(node)}")]);
        }

        var errors = new List<FieldError>();
        void Error(string field, string message) => errors.Add(new FieldError(fieldPrefix + field, message));

        // A write key is a credential: it authenticates the request and is never stored with the event.
        json.Remove("writeKey");

        if (impliedType is not null) json["type"] = impliedType;
        else if (json["type"] is { } type)
        {
            if (type.GetValueKind() == JsonValueKind.String) json["type"] = type.GetValue<string>().ToLowerInvariant();
            else Error("type", $"type must be a string, not {Kind(type)}");
        }

        foreach (var f in IdFields) CoerceId(json, f, Error);
        foreach (var f in ObjectFields) RequireKind(json, f, JsonValueKind.Object, "an object", Error);
        foreach (var f in StringFields) RequireKind(json, f, JsonValueKind.String, "a string", Error);
        foreach (var f in TimestampFields) RequireTimestamp(json, f, Error);
        if (json["version"] is { } version && version.GetValueKind() is not (JsonValueKind.Number or JsonValueKind.String or JsonValueKind.Null))
            Error("version", $"version must be a number or a string, not {Kind(version)}");

        var messageId = json["messageId"] is JsonValue m && m.GetValueKind() == JsonValueKind.String ? m.GetValue<string>() : null;
        if (messageId is { Length: > IngressLimits.MessageIdMaxLength })
            Error("messageId", $"messageId is {messageId.Length} characters; the limit is {IngressLimits.MessageIdMaxLength}");
        if (errors.Count > 0) return EventReadResult.Invalid(index, Truncate(messageId), errors);

        // The HTTP Tracking API allows a missing messageId: generate one and report it (D2).
        var generated = string.IsNullOrEmpty(messageId);
        if (generated) json["messageId"] = messageId = NewMessageId();
        if (json["receivedAt"] is null) json["receivedAt"] = Iso(clock.GetUtcNow());

        var e = new SegmentEvent(json);
        var validation = validator.Validate(e);
        if (!validation.IsValid)
            return EventReadResult.Invalid(index, generated ? null : messageId,
                validation.Errors.Select(v => new FieldError(fieldPrefix + v.PropertyName, v.ErrorMessage)).ToList());
        return EventReadResult.Valid(index, e, generated);
    }

    string NewMessageId() => "ingress-" + Guid.CreateVersion7(clock.GetUtcNow()).ToString("N");

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    static void CoerceId(JsonObject json, string field, Action<string, string> error)
    {
        if (json[field] is not { } node) return;
        switch (node.GetValueKind())
        {
            case JsonValueKind.String or JsonValueKind.Null: return;
            case JsonValueKind.Number: json[field] = node.ToJsonString(); return; // D3: 8412 → "8412", as written
            default: error(field, $"{field} must be a string or a number, not {Kind(node)}"); return;
        }
    }

    static void RequireKind(JsonObject json, string field, JsonValueKind kind, string expected, Action<string, string> error)
    {
        if (json[field] is { } node && node.GetValueKind() != kind)
            error(field, $"{field} must be {expected}, not {Kind(node)}");
    }

    static void RequireTimestamp(JsonObject json, string field, Action<string, string> error)
    {
        if (json[field] is not { } node) return;
        if (node.GetValueKind() != JsonValueKind.String) { error(field, $"{field} must be an ISO-8601 string, not {Kind(node)}"); return; }
        var s = node.GetValue<string>();
        if (!IsoTimestamp().IsMatch(s) || !DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
            error(field, $"{field} must be an ISO-8601 timestamp such as 2026-11-20T10:15:30.622Z");
    }

    static string? Truncate(string? messageId) =>
        messageId is { Length: > IngressLimits.MessageIdMaxLength } ? messageId[..IngressLimits.MessageIdMaxLength] : messageId;

    static string Kind(JsonNode? node) => node is null ? "null" : node.GetValueKind() switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoTimestamp();
}
