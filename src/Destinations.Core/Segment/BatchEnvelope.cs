using System.Text.Json;
using System.Text.Json.Nodes;

namespace Destinations.Core.Segment;

/// <summary>
/// The Tracking-API batch envelope <c>{"batch":[…], "context":{…}, "integrations":{…}, "sentAt":"…", "writeKey":"…"}</c>
/// (segment-ingress.md §2, D3).
/// </summary>
public sealed class BatchEnvelope
{
    BatchEnvelope(JsonArray batch, JsonObject? context, JsonObject? integrations, JsonNode? sentAt, string? writeKey)
    {
        Batch = batch;
        Context = context;
        Integrations = integrations;
        SentAt = sentAt;
        WriteKey = writeKey;
    }

    public JsonArray Batch { get; }
    public JsonObject? Context { get; }
    public JsonObject? Integrations { get; }
    public JsonNode? SentAt { get; }
    public string? WriteKey { get; }

    /// <summary>Reads the envelope; errors name the envelope field at fault.</summary>
    public static BatchEnvelope? Read(JsonNode? root, List<FieldError> errors)
    {
        if (root is not JsonObject o)
        {
            errors.Add(new(FieldError.Body, "a batch body must be a JSON object with a \"batch\" array"));
            return null;
        }
        var start = errors.Count;
        var batch = o["batch"] as JsonArray;
        if (batch is null) errors.Add(new("batch", o["batch"] is null ? "batch is required: an array of events" : "batch must be an array of events"));
        var context = ObjectOrNull(o, "context", errors);
        var integrations = ObjectOrNull(o, "integrations", errors);
        var sentAt = o["sentAt"];
        if (sentAt is not null && sentAt.GetValueKind() != JsonValueKind.String) errors.Add(new("sentAt", "sentAt must be an ISO-8601 string"));
        string? writeKey = null;
        if (o["writeKey"] is { } wk)
        {
            if (wk.GetValueKind() == JsonValueKind.String) writeKey = wk.GetValue<string>();
            else errors.Add(new("writeKey", "writeKey must be a string"));
        }
        return errors.Count > start ? null : new BatchEnvelope(batch!, context, integrations, sentAt, writeKey);
    }

    /// <summary>
    /// D3: top-level <c>context</c> and <c>integrations</c> are merged key by key into the event's own (one level deep; the
    /// event's keys win); a top-level <c>sentAt</c> fills an event lacking one. An event field of the wrong type is left
    /// alone for the event reader to reject.
    /// </summary>
    public void MergeInto(JsonObject e)
    {
        MergeObject(e, "context", Context);
        MergeObject(e, "integrations", Integrations);
        if (SentAt is not null && e["sentAt"] is null) e["sentAt"] = SentAt.DeepClone();
    }

    static void MergeObject(JsonObject e, string field, JsonObject? top)
    {
        if (top is null || top.Count == 0) return;
        var own = e[field];
        if (own is null) { e[field] = top.DeepClone(); return; }
        if (own is not JsonObject target) return;
        foreach (var (key, value) in top)
            if (!target.ContainsKey(key)) target[key] = value?.DeepClone();
    }

    static JsonObject? ObjectOrNull(JsonObject o, string field, List<FieldError> errors)
    {
        var node = o[field];
        if (node is null || node is JsonObject) return node as JsonObject;
        errors.Add(new(field, $"{field} must be an object"));
        return null;
    }
}
