namespace Destinations.Core.Delivery;

/// <summary>
/// Why an event is deliberately not sent to an instance (D8 in docs/decisions.md): a stable snake_case <see cref="Code"/>
/// and a <see cref="Sentence"/> for people. The code is what metric labels, the store's filter counters and filtered
/// deliveries hold, so it never changes once released; the sentence may be reworded. Detail about one event (which event
/// name, which call type) travels next to the code, never inside it, so a label keeps a bounded set of values.
/// </summary>
public sealed record FilterReason
{
    FilterReason(string code, string sentence)
    {
        Code = code;
        Sentence = sentence;
    }

    public string Code { get; }
    public string Sentence { get; }

    // Router time: no delivery row, a counter per instance and reason.
    public static readonly FilterReason SourceNotLinked = new("source_not_linked",
        "The event's source is not linked to this destination instance.");
    public static readonly FilterReason IntegrationsOff = new("integrations_off",
        "The event's Integrations object switches this destination off.");
    public static readonly FilterReason DeleteNotSupported = new("delete_not_supported",
        "The partner has no deletion call, so delete requests are not sent.");
    public static readonly FilterReason CallTypeNotAccepted = new("call_type_not_accepted",
        "The partner does not accept this call type.");
    public static readonly FilterReason NoTriggerMatched = new("no_trigger_matched",
        "No mapping's trigger matches the event.");
    public static readonly FilterReason NoSubscriptionMatched = new("no_subscription_matched",
        "The destination matched no subscription for the event.");
    public static readonly FilterReason FilterDrop = new("filter_drop",
        "A drop filter of the instance matches the event.");
    public static readonly FilterReason FilterOnly = new("filter_only",
        "An only filter of the instance does not match the event.");
    public static readonly FilterReason FilterSample = new("filter_sample",
        "The event is outside the share a sample filter of the instance keeps.");

    // Mapping time: a delivery row with status 'filtered' holding the code.
    public static readonly FilterReason NoUserId = new("no_user_id",
        "The event has no userId, which the partner keys its contacts on.");
    public static readonly FilterReason NoAliasPath = new("no_alias_path",
        "Alias calls are not sent: the partner publishes no alias endpoint and the instance sets no AliasPath.");
    public static readonly FilterReason EventNotAllowed = new("event_not_allowed",
        "The track event's name is not in the instance's AllowedEvents.");
    public static readonly FilterReason PageEventsOff = new("page_events_off",
        "Page events are switched off for this instance (SendPageEvents is false).");
    public static readonly FilterReason ScreenEventsOff = new("screen_events_off",
        "Screen events are switched off for this instance (SendScreenEvents is false).");
    public static readonly FilterReason AliasEventsOff = new("alias_events_off",
        "Alias events are switched off for this instance (SendAliasEvents is false).");
    public static readonly FilterReason GroupEventsOff = new("group_events_off",
        "Group events are switched off for this instance (SendGroupEvents is false).");
    public static readonly FilterReason MappingNotConfigured = new("mapping_not_configured",
        "The mapping this delivery was routed to is no longer configured for the instance.");

    /// <summary>Every code, in the order docs/operations.md lists them.</summary>
    public static IReadOnlyList<FilterReason> All { get; } =
    [
        SourceNotLinked, IntegrationsOff, DeleteNotSupported, CallTypeNotAccepted, NoTriggerMatched, NoSubscriptionMatched,
        FilterDrop, FilterOnly, FilterSample,
        NoUserId, NoAliasPath, EventNotAllowed, PageEventsOff, ScreenEventsOff, AliasEventsOff, GroupEventsOff, MappingNotConfigured,
    ];

    static readonly Dictionary<string, FilterReason> ByCode = All.ToDictionary(r => r.Code, StringComparer.Ordinal);

    /// <summary>The entry for a stored code; null for a code this version does not know.</summary>
    public static FilterReason? Find(string code) => ByCode.GetValueOrDefault(code);

    public override string ToString() => Code;
}
