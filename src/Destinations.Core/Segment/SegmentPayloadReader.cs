using System.Runtime.InteropServices;
using System.Text.Json;

namespace Destinations.Core.Segment;

/// <summary>
/// Reads the three body forms the ingress accepts (docs/ingress.md "Endpoints") and applies Segment's size limits ("Limits", D1), measured
/// on the JSON as received, before any merge. Pure: no I/O, no authentication (the host decides who may send). Each body is
/// first offered to the one-pass reader (the common case: well-formed, every event valid); what it declines is read here,
/// through a document, which also gives every error its field and message.
/// </summary>
public sealed class SegmentPayloadReader(SegmentEventReader events)
{
    public SegmentPayloadReader() : this(new SegmentEventReader()) { }

    /// <summary>Off: every body goes the long way (tests compare the two ways on the same bodies).</summary>
    internal bool OnePass { get; init; } = true;

    /// <summary><c>POST /v1/track|identify|page|screen|group|alias</c>: one event, the path decides the type (D3).</summary>
    public PayloadReadResult ReadTrackingApiEvent(ReadOnlyMemory<byte> body, string pathType)
    {
        if (body.Length > IngressLimits.TrackingApiEventBytes)
            return TooBig(PayloadShape.Single, body.Length, IngressLimits.TrackingApiEventBytes, "a Tracking-API event");
        if (OnePass && events.TryReadInOnePass(body, BodyForm.TrackingApiEvent, pathType) is { } read) return read;
        if (!JsonBody.TryParse(body, out var document, out var error, out var invalid)) return PayloadReadResult.Rejected(PayloadShape.Single, false, null, error!);
        using (document)
        {
            // Invalid text: no write key can be read safely, so the answer is a 400 naming the fields, as for malformed JSON.
            if (invalid.Count > 0) return InvalidTextRejected(PayloadShape.Single, invalid);
            var root = document!.RootElement;
            var key = BatchEnvelope.Property(root, "writeKey");
            var writeKey = key.ValueKind == JsonValueKind.String ? key.GetString() : null;
            return new(PayloadShape.Single, true, writeKey, [], [events.Read(root, 0, pathType, "", null)]);
        }
    }

    /// <summary><c>POST /v1/batch</c> and <c>/v1/import</c>: the envelope, then each event on its own (D2, D3).</summary>
    public PayloadReadResult ReadBatch(ReadOnlyMemory<byte> body)
    {
        if (body.Length > IngressLimits.BatchBytes)
            return TooBig(PayloadShape.Batch, body.Length, IngressLimits.BatchBytes, "a batch");
        if (OnePass && events.TryReadInOnePass(body, BodyForm.Batch, null) is { } read) return read;
        if (!JsonBody.TryParse(body, out var document, out var error, out var invalid)) return PayloadReadResult.Rejected(PayloadShape.Batch, false, null, error!);
        using var _ = document;
        var root = document!.RootElement;

        var badEvents = InvalidTextByElement(body, invalid, root, "batch", out var outside);
        if (outside.Count > 0) return InvalidTextRejected(PayloadShape.Batch, outside);
        var envelopeErrors = new List<FieldError>();
        var envelope = BatchEnvelope.Read(root, envelopeErrors);
        var key = BatchEnvelope.Property(root, "writeKey");
        var writeKey = key.ValueKind == JsonValueKind.String ? key.GetString() : null;
        if (envelope is null) return new(PayloadShape.Batch, true, writeKey, envelopeErrors, []);
        var count = envelope.Batch.GetArrayLength();
        if (count > IngressLimits.BatchEvents)
            return PayloadReadResult.Rejected(PayloadShape.Batch, true, writeKey,
                new FieldError("batch", $"batch has {count} events; the limit is {IngressLimits.BatchEvents:N0} events per batch"));
        if (count == 0)
            return PayloadReadResult.Rejected(PayloadShape.Batch, true, writeKey, new FieldError("batch", "batch has no events"));

        var results = new List<EventReadResult>(count);
        var i = 0;
        foreach (var e in envelope.Batch.EnumerateArray())
        {
            var prefix = BatchPrefix(i);
            results.Add(InvalidTextEvent(i, e, badEvents) ?? Oversize(i, IngressLimits.TrackingApiEventBytes, prefix, e) ?? events.Read(e, i, null, prefix, envelope));
            i++;
        }
        return new(PayloadShape.Batch, true, writeKey, [], results);
    }

    /// <summary><c>POST /v1/webhook</c>: one event object (classic Webhooks) or an array (Webhooks (Actions) batching).</summary>
    public PayloadReadResult ReadWebhook(ReadOnlyMemory<byte> body)
    {
        if (OnePass && events.TryReadInOnePass(body, BodyForm.Webhook, null) is { } read) return read;
        if (!JsonBody.TryParse(body, out var document, out var error, out var invalid)) return PayloadReadResult.Rejected(PayloadShape.Single, false, null, error!);
        using var _ = document;
        var root = document!.RootElement;
        if (root.ValueKind != JsonValueKind.Array)
        {
            if (body.Length > IngressLimits.WebhookEventBytes)
                return TooBig(PayloadShape.Single, body.Length, IngressLimits.WebhookEventBytes, "a webhook event");
            if (invalid.Count > 0) return InvalidTextRejected(PayloadShape.Single, invalid);
            return new(PayloadShape.Single, true, null, [], [events.Read(root, 0, null, "", null)]);
        }
        var badEvents = InvalidTextByElement(body, invalid, root, null, out var outside);
        if (outside.Count > 0) return InvalidTextRejected(PayloadShape.Batch, outside); // cannot happen: an array has no names
        var count = root.GetArrayLength();
        if (count > IngressLimits.WebhookArrayEvents)
            return PayloadReadResult.Rejected(PayloadShape.Batch, true, null,
                new FieldError(FieldError.Body, $"the array has {count} events; the limit is {IngressLimits.WebhookArrayEvents:N0} events per webhook request"));
        if (count == 0)
            return PayloadReadResult.Rejected(PayloadShape.Batch, true, null, new FieldError(FieldError.Body, "the array has no events"));

        var results = new List<EventReadResult>(count);
        var i = 0;
        foreach (var e in root.EnumerateArray())
        {
            var prefix = $"[{i}].";
            results.Add(InvalidTextEvent(i, e, badEvents) ?? Oversize(i, IngressLimits.WebhookEventBytes, prefix, e) ?? events.Read(e, i, null, prefix, null));
            i++;
        }
        return new(PayloadShape.Batch, true, null, [], results);
    }

    static PayloadReadResult InvalidTextRejected(PayloadShape shape, IReadOnlyList<InvalidText> invalid) =>
        PayloadReadResult.Rejected(shape, false, null, [.. InvalidTextErrors(invalid)]);

    /// <summary>The first few invalid strings by name (an answer stays small however many a body holds), then a count.</summary>
    static List<FieldError> InvalidTextErrors(IReadOnlyList<InvalidText> invalid)
    {
        const int named = 20;
        var errors = new List<FieldError>(Math.Min(invalid.Count, named + 1));
        for (var i = 0; i < invalid.Count && i < named; i++) errors.Add(invalid[i].ToError());
        if (invalid.Count > named)
            errors.Add(new FieldError(invalid[named].ToError().Field, $"and {invalid.Count - named} more strings that are not valid Unicode"));
        return errors;
    }

    /// <summary>
    /// Sorts invalid text (rare: usually there is none) into the elements of the events array — the root array, or the array
    /// under the root's <paramref name="property"/> — by byte offset; <paramref name="outside"/> gets what lies elsewhere
    /// (the batch envelope), which rejects the whole request.
    /// </summary>
    static Dictionary<int, List<InvalidText>>? InvalidTextByElement(ReadOnlyMemory<byte> body, IReadOnlyList<InvalidText> invalid,
        JsonElement root, string? property, out List<InvalidText> outside)
    {
        outside = [];
        if (invalid.Count == 0) return null;
        var byElement = new Dictionary<int, List<InvalidText>>();
        var array = root;
        if (property is not null)
        {
            // An invalid name at the root makes the root's names unsafe to look up: the envelope itself is bad.
            if (root.ValueKind != JsonValueKind.Object || invalid.Any(t => t.IsPropertyName && t.Field.Length == 0))
            {
                outside.AddRange(invalid);
                return byElement;
            }
            array = BatchEnvelope.Property(root, property);
        }
        var next = 0; // invalid text and elements are both in body order
        if (array.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var e in array.EnumerateArray())
            {
                var raw = JsonMarshal.GetRawUtf8Value(e);
                body.Span.Overlaps(raw, out var start);
                for (; next < invalid.Count && invalid[next].Offset < start + raw.Length; next++)
                {
                    if (invalid[next].Offset < start) outside.Add(invalid[next]);
                    else (byElement.TryGetValue(i, out var list) ? list : byElement[i] = []).Add(invalid[next]);
                }
                i++;
            }
        }
        for (; next < invalid.Count; next++) outside.Add(invalid[next]);
        return byElement;
    }

    /// <summary>An event holding invalid text is rejected on its own (D2); its strings are never read, but for its messageId.</summary>
    static EventReadResult? InvalidTextEvent(int i, JsonElement e, Dictionary<int, List<InvalidText>>? byElement)
    {
        if (byElement is null || !byElement.TryGetValue(i, out var invalid)) return null;
        string? messageId = null;
        try
        {
            var id = BatchEnvelope.Property(e, "messageId");
            if (id.ValueKind == JsonValueKind.String) messageId = id.GetString();
        }
        catch (InvalidOperationException)
        {
            // the messageId, or a name beside it, is itself the invalid text: the rejection carries no id
        }
        var errors = InvalidTextErrors(invalid);
        return EventReadResult.Invalid(i, messageId is { Length: > IngressLimits.MessageIdMaxLength } ? messageId[..IngressLimits.MessageIdMaxLength] : messageId, errors);
    }

    /// <summary>Per-element size in a batch or array: a too-big element is rejected on its own (D1, D2).</summary>
    static EventReadResult? Oversize(int i, int limit, string prefix, JsonElement e)
    {
        // The element's bytes as received (the document reads the body in place): measured, never re-serialised.
        var size = JsonMarshal.GetRawUtf8Value(e).Length;
        if (size <= limit) return null;
        var id = BatchEnvelope.Property(e, "messageId");
        var messageId = id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        return EventReadResult.Invalid(i, messageId,
            [new FieldError(prefix.TrimEnd('.'), $"the event is {size:N0} bytes; the limit is {IngressLimits.Kb(limit)} per event")]);
    }

    static readonly string[] BatchPrefixes = Enumerable.Range(0, 100).Select(i => $"batch[{i}].").ToArray();

    static string BatchPrefix(int i) => i < BatchPrefixes.Length ? BatchPrefixes[i] : $"batch[{i}].";

    static PayloadReadResult TooBig(PayloadShape shape, int size, int limit, string what) =>
        PayloadReadResult.Rejected(shape, false, null,
            new FieldError(FieldError.Body, $"the body is {size:N0} bytes; the limit for {what} is {IngressLimits.Kb(limit)}"));
}
