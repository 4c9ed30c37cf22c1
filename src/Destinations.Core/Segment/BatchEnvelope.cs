using System.Text.Json;

namespace Destinations.Core.Segment;

/// <summary>
/// The Tracking-API batch envelope <c>{"batch":[…], "context":{…}, "integrations":{…}, "sentAt":"…", "writeKey":"…"}</c>
/// (docs/ingress.md "Batch envelope", D3). Its elements live in the request's <see cref="JsonDocument"/>: valid while it is.
/// </summary>
public sealed class BatchEnvelope
{
    BatchEnvelope(JsonElement batch, JsonElement context, JsonElement integrations, JsonElement sentAt, string? writeKey)
    {
        Batch = batch;
        Context = context;
        Integrations = integrations;
        SentAt = sentAt;
        WriteKey = writeKey;
    }

    /// <summary>The <c>batch</c> array.</summary>
    public JsonElement Batch { get; }
    /// <summary>A top-level <c>context</c> with at least one key, else <c>default</c> (nothing to merge).</summary>
    public JsonElement Context { get; }
    /// <summary>A top-level <c>integrations</c> with at least one key, else <c>default</c>.</summary>
    public JsonElement Integrations { get; }
    /// <summary>A top-level <c>sentAt</c> string, else <c>default</c>.</summary>
    public JsonElement SentAt { get; }
    public string? WriteKey { get; }

    /// <summary>Reads the envelope; errors name the envelope field at fault.</summary>
    public static BatchEnvelope? Read(JsonElement root, List<FieldError> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new(FieldError.Body, "a batch body must be a JSON object with a \"batch\" array"));
            return null;
        }
        var start = errors.Count;
        var batch = Property(root, "batch");
        if (batch.ValueKind != JsonValueKind.Array)
            errors.Add(new("batch", batch.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? "batch is required: an array of events" : "batch must be an array of events"));
        var context = ObjectOrNone(root, "context", errors);
        var integrations = ObjectOrNone(root, "integrations", errors);
        var sentAt = Property(root, "sentAt");
        if (sentAt.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.String))
            errors.Add(new("sentAt", "sentAt must be an ISO-8601 string"));
        string? writeKey = null;
        var wk = Property(root, "writeKey");
        if (wk.ValueKind == JsonValueKind.String) writeKey = wk.GetString();
        else if (wk.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null)) errors.Add(new("writeKey", "writeKey must be a string"));
        return errors.Count > start ? null : new BatchEnvelope(batch, context, integrations,
            sentAt.ValueKind == JsonValueKind.String ? sentAt : default, writeKey);
    }

    /// <summary>A property's value; <c>default</c> (Undefined) when absent.</summary>
    public static JsonElement Property(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var value) ? value : default;

    /// <summary>An object with keys to merge, or <c>default</c>; an absent, null or empty object merges nothing.</summary>
    static JsonElement ObjectOrNone(JsonElement o, string field, List<FieldError> errors)
    {
        var value = Property(o, field);
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return default;
            case JsonValueKind.Object:
                using (var keys = value.EnumerateObject()) return keys.MoveNext() ? value : default;
            default:
                errors.Add(new(field, $"{field} must be an object"));
                return default;
        }
    }
}
