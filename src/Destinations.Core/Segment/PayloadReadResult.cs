namespace Destinations.Core.Segment;

/// <summary>How a request's events were sent, which decides the answer's form (D2).</summary>
public enum PayloadShape
{
    /// <summary>One event object: answered <c>{"success":true}</c> (+ <c>messageId</c> when generated).</summary>
    Single,
    /// <summary>A Tracking-API batch or a webhook array: answered with accepted / rejected / generated.</summary>
    Batch,
}

/// <summary>
/// A request body after reading. <see cref="EnvelopeErrors"/> reject the whole request (malformed JSON, a size limit, a bad
/// batch envelope); otherwise each of <see cref="Events"/> is valid or rejected on its own.
/// </summary>
public sealed record PayloadReadResult(
    PayloadShape Shape,
    bool IsJson,
    string? WriteKey,
    IReadOnlyList<FieldError> EnvelopeErrors,
    IReadOnlyList<EventReadResult> Events)
{
    public bool EnvelopeIsValid => EnvelopeErrors.Count == 0;

    public static PayloadReadResult Rejected(PayloadShape shape, bool isJson, string? writeKey, params FieldError[] errors) =>
        new(shape, isJson, writeKey, errors, []);
}
