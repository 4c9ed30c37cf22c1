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
            .Must(NotBlank).WithMessage("type is required")
            .Must(t => CallTypes.All.Contains(t)).WithMessage(e => $"type '{e.Type}' is not a Segment call type (one of {KnownTypes})")
            .OverridePropertyName("type");

        RuleFor(e => e.UserKey).Must(NotBlank)
            .When(e => NeedUserKey.Contains(e.Type))
            .WithMessage(e => $"{e.Type} needs a userId or an anonymousId")
            .OverridePropertyName("userId");

        RuleFor(e => e.Event).Must(NotBlank).When(e => e.Type == CallTypes.Track)
            .WithMessage("track needs an event name").OverridePropertyName("event");

        RuleFor(e => e.GroupId).Must(NotBlank).When(e => e.Type == CallTypes.Group)
            .WithMessage("group needs a groupId").OverridePropertyName("groupId");

        RuleFor(e => e.UserId).Must(NotBlank).When(e => e.Type == CallTypes.Alias)
            .WithMessage("alias needs a userId").OverridePropertyName("userId");

        RuleFor(e => e.PreviousId).Must(NotBlank).When(e => e.Type == CallTypes.Alias)
            .WithMessage("alias needs a previousId").OverridePropertyName("previousId");
        // delete (a user-deletion request) needs nothing more: it is accepted and recorded as filtered (D4).
    }

    /// <summary>What <c>NotEmpty()</c> decides for a string (null, empty and white space fail), without its general case: for a
    /// string that passes, <c>NotEmpty</c> also asks whether it is an empty sequence by making an enumerator for it — an
    /// allocation per rule on every accepted event.</summary>
    static bool NotBlank(string? value) => !string.IsNullOrWhiteSpace(value);
}
