using FluentValidation;

namespace Destinations.Core.Segment;

/// <summary>
/// The semantic rules of Segment's Spec (docs/ingress.md "The event") on a normalised event. Structural rules (JSON types, id
/// coercion, messageId length) are applied earlier by <see cref="SegmentEventReader"/>; property names are the JSON names.
/// The rules are plain code in <see cref="Check"/>, which the reader calls directly for every event (FluentValidation's
/// rule pipeline cost ~0.4 µs and 0.7 KB per event, most of it on valid events); this validator reports the same errors
/// through FluentValidation for anything that asks for an <see cref="IValidator{T}"/>.
/// </summary>
public sealed class SegmentEventValidator : AbstractValidator<SegmentEvent>
{
    static readonly HashSet<string> NeedUserKey =
        new(StringComparer.Ordinal) { CallTypes.Identify, CallTypes.Track, CallTypes.Page, CallTypes.Screen, CallTypes.Group };

    static readonly string KnownTypes = string.Join(", ", CallTypes.All.Order(StringComparer.Ordinal));

    public SegmentEventValidator() =>
        RuleFor(e => e).Custom((e, context) =>
        {
            foreach (var error in Check(e) ?? []) context.AddFailure(error.Field, error.Message);
        });

    /// <summary>The rules' errors in rule order (field = JSON name), or null when the event keeps every rule.</summary>
    public static List<FieldError>? Check(SegmentEvent e)
    {
        List<FieldError>? errors = null;
        void Error(string field, string message) => (errors ??= []).Add(new FieldError(field, message));

        if (Empty(e.Type)) Error("type", "type is required");
        else if (!CallTypes.All.Contains(e.Type)) Error("type", $"type '{e.Type}' is not a Segment call type (one of {KnownTypes})");

        if (NeedUserKey.Contains(e.Type) && Empty(e.UserKey)) Error("userId", $"{e.Type} needs a userId or an anonymousId");
        if (e.Type == CallTypes.Track && Empty(e.Event)) Error("event", "track needs an event name");
        if (e.Type == CallTypes.Group && Empty(e.GroupId)) Error("groupId", "group needs a groupId");
        if (e.Type == CallTypes.Alias && Empty(e.UserId)) Error("userId", "alias needs a userId");
        if (e.Type == CallTypes.Alias && Empty(e.PreviousId)) Error("previousId", "alias needs a previousId");
        // delete (a user-deletion request) needs nothing more: it is accepted and recorded as filtered (D4).
        return errors;
    }

    /// <summary>FluentValidation's NotEmpty for a string: null, empty or only white space.</summary>
    static bool Empty(string? s) => string.IsNullOrWhiteSpace(s);
}
