using Destinations.Core.Mapping;
using T = Destinations.Core.Mapping.ActionFieldType;

namespace Destinations.UserMotion;

/// <summary>
/// The three actions and presets, declared as data with Segment's keys and default mappings (docs/partners/usermotion.md
/// "Actions", "Presets"; checked against segmentio/action-destinations destinations/usermotion).
/// </summary>
public static class UserMotionActions
{
    const string UserId = """{"@path": "$.userId"}""";
    const string AnonymousId = """{"@path": "$.anonymousId"}""";
    const string Traits = """{"@path": "$.traits"}""";

    public static readonly ActionDefinition Identify = new("identify", "Identify",
    [
        ActionField.Of("userId", T.String, true, UserId),
        ActionField.Of("anonymousId", T.String, false, AnonymousId),
        ActionField.Of("email", T.String, true,
            """{"@if": {"exists": {"@path": "$.traits.email"}, "then": {"@path": "$.traits.email"}, "else": {"@path": "$.email"}}}"""),
        ActionField.Of("traits", T.Object, false, Traits),
    ]);

    public static readonly ActionDefinition Group = new("group", "Identify Company",
    [
        ActionField.Of("userId", T.String, false, UserId),
        ActionField.Of("anonymousId", T.String, false, AnonymousId),
        ActionField.Of("groupId", T.String, true, """{"@path": "$.groupId"}"""),
        ActionField.Of("traits", T.Object, false, Traits),
    ]);

    public static readonly ActionDefinition Track = new("track", "Track Analytics Event",
    [
        ActionField.Of("userId", T.String, false, UserId),
        ActionField.Of("anonymousId", T.String, false, AnonymousId),
        // A page has no "event" key, so it is sent as "pageview"; the page's name is not used (docs/partners/usermotion.md "Actions").
        ActionField.Of("eventName", T.String, true,
            """{"@if": {"exists": {"@path": "$.event"}, "then": {"@path": "$.event"}, "else": {"@template": "pageview"}}}"""),
        ActionField.Of("context", T.Object, false, """{"@path": "$.context"}"""),
        ActionField.Of("properties", T.Object, false, """{"@path": "$.properties"}"""),
    ]);

    public static readonly IReadOnlyDictionary<string, ActionDefinition> ByKey =
        new Dictionary<string, ActionDefinition>(StringComparer.Ordinal)
        {
            [Identify.Key] = Identify,
            [Group.Key] = Group,
            [Track.Key] = Track,
        };

    /// <summary>What an instance runs when it configures no mappings (D20). Alias and screen match none of them.</summary>
    public static IReadOnlyList<ActionMapping> Presets() =>
    [
        ActionMapping.Preset("Identify User", "type = \"identify\"", Identify),
        ActionMapping.Preset("Identify Group", "type = \"group\"", Group),
        ActionMapping.Preset("Track Analytics Event", "type = \"track\" or type = \"page\"", Track),
    ];
}
