using FluentValidation;

namespace Destinations.Core.Segment;

/// <summary>
/// The semantic rules of Segment's Spec (docs/ingress.md "The event") on a normalised event. Structural rules (JSON types, id
/// coercion, messageId length) are applied earlier by <see cref="SegmentEventReader"/>; property names are the JSON names.
/// </summary>
public sealed class SegmentEventValidator : AbstractValidator<SegmentEvent>
{
    static readonly HashSet<string> NeedUserKey =
        new(StringComparer.Ordinal) { CallTypes.Identify, CallTypes.Track, CallTypes.Page, CallTypes.Screen, CallTypes.Group };

    static readonly string KnownTypes = string.Join(", ", CallTypes.All.Order(StringComparer.Ordinal));

    public SegmentEventValidator()
    {
        RuleFor(e => e.Type).Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("type is required")
            .Must(t => CallTypes.All.Contains(t)).WithMessage(e => $"type '{e.Type}' is not a Segment call type (one of {KnownTypes})")
            .OverridePropertyName("type");

        RuleFor(e => e.UserKey).NotEmpty()
            .When(e => NeedUserKey.Contains(e.Type))
            .WithMessage(e => $"{e.Type} needs a userId or an anonymousId")
            .OverridePropertyName("userId");

        RuleFor(e => e.Event).NotEmpty().When(e => e.Type == CallTypes.Track)
            .WithMessage("track needs an event name").OverridePropertyName("event");

        RuleFor(e => e.GroupId).NotEmpty().When(e => e.Type == CallTypes.Group)
            .WithMessage("group needs a groupId").OverridePropertyName("groupId");

        RuleFor(e => e.UserId).NotEmpty().When(e => e.Type == CallTypes.Alias)
            .WithMessage("alias needs a userId").OverridePropertyName("userId");

        RuleFor(e => e.PreviousId).NotEmpty().When(e => e.Type == CallTypes.Alias)
            .WithMessage("alias needs a previousId").OverridePropertyName("previousId");
        // delete (a user-deletion request) needs nothing more: it is accepted and recorded as filtered (D4).
    }

    /// <summary>
    /// Whether the event passes every rule above, decided without a validation run (its context, result, rule closures and
    /// string enumerators cost each accepted event about 500 bytes): the reader asks this first and runs the validator only
    /// for an event that fails, whose errors it words. <c>NotEmpty</c> on a string refuses null, empty and white space.
    /// </summary>
    public static bool Passes(SegmentEvent e)
    {
        if (e.Type is null || !CallTypes.All.Contains(e.Type)) return false;
        if (NeedUserKey.Contains(e.Type) && string.IsNullOrWhiteSpace(e.UserKey)) return false;
        return e.Type switch
        {
            CallTypes.Track => !string.IsNullOrWhiteSpace(e.Event),
            CallTypes.Group => !string.IsNullOrWhiteSpace(e.GroupId),
            CallTypes.Alias => !string.IsNullOrWhiteSpace(e.UserId) && !string.IsNullOrWhiteSpace(e.PreviousId),
            _ => true,
        };
    }
}
