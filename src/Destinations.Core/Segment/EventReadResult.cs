namespace Destinations.Core.Segment;

/// <summary>
/// One event of a request after reading: the normalised <see cref="Event"/> or the field errors that reject it.
/// <see cref="Index"/> is its position in a batch or array (0 for a single event).
/// </summary>
public sealed record EventReadResult(int Index, SegmentEvent? Event, string? MessageId, bool MessageIdGenerated, IReadOnlyList<FieldError> Errors)
{
    public bool IsValid => Event is not null && Errors.Count == 0;

    public static EventReadResult Valid(int index, SegmentEvent e, bool generated) => new(index, e, e.MessageId, generated, []);

    public static EventReadResult Invalid(int index, string? messageId, IReadOnlyList<FieldError> errors) =>
        new(index, null, messageId, false, errors);
}
