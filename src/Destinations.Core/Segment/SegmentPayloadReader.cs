using System.Text.Json;
using System.Text.Json.Nodes;

namespace Destinations.Core.Segment;

/// <summary>
/// Reads the three body forms the ingress accepts (segment-ingress.md §2) and applies Segment's size limits (§1, D1), measured
/// on the JSON as received, before any merge. Pure: no I/O, no authentication (the host decides who may send).
/// </summary>
public sealed class SegmentPayloadReader(SegmentEventReader events)
{
    public SegmentPayloadReader() : this(new SegmentEventReader()) { }

    /// <summary><c>POST /v1/track|identify|page|screen|group|alias</c>: one event, the path decides the type (D3).</summary>
    public PayloadReadResult ReadTrackingApiEvent(ReadOnlyMemory<byte> body, string pathType)
    {
        if (body.Length > IngressLimits.TrackingApiEventBytes)
            return TooBig(PayloadShape.Single, body.Length, IngressLimits.TrackingApiEventBytes, "a Tracking-API event");
        if (!JsonBody.TryParse(body, out var root, out var error)) return PayloadReadResult.Rejected(PayloadShape.Single, false, null, error!);
        var writeKey = root is JsonObject o && o["writeKey"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        return new(PayloadShape.Single, true, writeKey, [], [events.Read(root, 0, pathType)]);
    }

    /// <summary><c>POST /v1/batch</c> and <c>/v1/import</c>: the envelope, then each event on its own (D2, D3).</summary>
    public PayloadReadResult ReadBatch(ReadOnlyMemory<byte> body)
    {
        if (body.Length > IngressLimits.BatchBytes)
            return TooBig(PayloadShape.Batch, body.Length, IngressLimits.BatchBytes, "a batch");
        if (!JsonBody.TryParse(body, out var root, out var error)) return PayloadReadResult.Rejected(PayloadShape.Batch, false, null, error!);

        var envelopeErrors = new List<FieldError>();
        var envelope = BatchEnvelope.Read(root, envelopeErrors);
        var writeKey = (root as JsonObject)?["writeKey"] is JsonValue wk && wk.GetValueKind() == JsonValueKind.String ? wk.GetValue<string>() : null;
        if (envelope is null) return new(PayloadShape.Batch, true, writeKey, envelopeErrors, []);
        if (envelope.Batch.Count > IngressLimits.BatchEvents)
            return PayloadReadResult.Rejected(PayloadShape.Batch, true, writeKey,
                new FieldError("batch", $"batch has {envelope.Batch.Count} events; the limit is {IngressLimits.BatchEvents:N0} events per batch"));
        if (envelope.Batch.Count == 0)
            return PayloadReadResult.Rejected(PayloadShape.Batch, true, writeKey, new FieldError("batch", "batch has no events"));

        var ranges = JsonBody.ElementRanges(body.Span, "batch");
        var results = new List<EventReadResult>(envelope.Batch.Count);
        for (var i = 0; i < envelope.Batch.Count; i++)
        {
            var prefix = $"batch[{i}].";
            var node = envelope.Batch[i];
            if (Oversize(i, ranges, IngressLimits.TrackingApiEventBytes, prefix, node) is { } tooBig) { results.Add(tooBig); continue; }
            if (node is JsonObject e) envelope.MergeInto(e);
            results.Add(events.Read(node, i, null, prefix));
        }
        return new(PayloadShape.Batch, true, writeKey, [], results);
    }

    /// <summary><c>POST /v1/webhook</c>: one event object (classic Webhooks) or an array (Webhooks (Actions) batching).</summary>
    public PayloadReadResult ReadWebhook(ReadOnlyMemory<byte> body)
    {
        if (!JsonBody.TryParse(body, out var root, out var error)) return PayloadReadResult.Rejected(PayloadShape.Single, false, null, error!);
        if (root is not JsonArray array)
        {
            if (body.Length > IngressLimits.WebhookEventBytes)
                return TooBig(PayloadShape.Single, body.Length, IngressLimits.WebhookEventBytes, "a webhook event");
            return new(PayloadShape.Single, true, null, [], [events.Read(root)]);
        }
        if (array.Count > IngressLimits.WebhookArrayEvents)
            return PayloadReadResult.Rejected(PayloadShape.Batch, true, null,
                new FieldError(FieldError.Body, $"the array has {array.Count} events; the limit is {IngressLimits.WebhookArrayEvents:N0} events per webhook request"));
        if (array.Count == 0)
            return PayloadReadResult.Rejected(PayloadShape.Batch, true, null, new FieldError(FieldError.Body, "the array has no events"));

        var ranges = JsonBody.ElementRanges(body.Span);
        var results = new List<EventReadResult>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var prefix = $"[{i}].";
            results.Add(Oversize(i, ranges, IngressLimits.WebhookEventBytes, prefix, array[i]) ?? events.Read(array[i], i, null, prefix));
        }
        return new(PayloadShape.Batch, true, null, [], results);
    }

    /// <summary>Per-element size in a batch or array: a too-big element is rejected on its own (D1, D2).</summary>
    static EventReadResult? Oversize(int i, IReadOnlyList<Range> ranges, int limit, string prefix, JsonNode? node)
    {
        if (i >= ranges.Count) return null;
        var size = ranges[i].GetOffsetAndLength(int.MaxValue).Length;
        if (size <= limit) return null;
        var messageId = (node as JsonObject)?["messageId"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        return EventReadResult.Invalid(i, messageId,
            [new FieldError(prefix.TrimEnd('.'), $"the event is {size:N0} bytes; the limit is {IngressLimits.Kb(limit)} per event")]);
    }

    static PayloadReadResult TooBig(PayloadShape shape, int size, int limit, string what) =>
        PayloadReadResult.Rejected(shape, false, null,
            new FieldError(FieldError.Body, $"the body is {size:N0} bytes; the limit for {what} is {IngressLimits.Kb(limit)}"));
}
