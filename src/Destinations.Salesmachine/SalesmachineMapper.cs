using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;
using static Destinations.Salesmachine.SalesmachineApi;

namespace Destinations.Salesmachine;

/// <summary>
/// Pure: one Segment event + the instance's settings → the ordered Salesmachine requests (D11), or why none are sent (D8).
/// The table it implements is in docs/partners/salesmachine.md "Mapping"; the fixtures in the tests pin every row of it.
/// It reads the event through <see cref="SegmentEvent.ToJsonElement"/>: for an event read back from the store no DOM is
/// built, and traits/properties go into the partner body as nodes over the stored bytes instead of deep copies.
/// </summary>
public static class SalesmachineMapper
{
    public static MappingResult Map(SegmentEvent e, SalesmachineSettings settings)
    {
        var json = e.ToJsonElement();
        var userId = Id(json, "userId");
        return e.Type switch
        {
            // D18: the one exception to "anonymous-only events are filtered": the account call still goes.
            CallTypes.Group => Group(json, userId),
            // Checked before the userId rule: without an endpoint, the missing id is not the reason it is not sent.
            // D15: Salesmachine publishes no alias endpoint; AliasPath names one when the account has it.
            CallTypes.Alias when settings.AliasPath is null => MappingResult.Filtered(FilterReason.NoAliasPath),
            // Salesmachine keys contacts on the customer's user id.
            _ when userId is null => MappingResult.Filtered(FilterReason.NoUserId),
            CallTypes.Identify => MappingResult.Send(Contact(Steps.Contact, userId, CopyOf(json, "traits"))),
            CallTypes.Track => Track(e, json, userId),
            CallTypes.Page => SalesmachinePageMapping.Map(json, userId),
            CallTypes.Alias => Alias(json, userId, settings.AliasPath!),
            _ => MappingResult.Filtered(FilterReason.CallTypeNotAccepted, CallTypes.Describe(e.Type)),
        };
    }

    static MappingResult Track(SegmentEvent e, JsonElement json, string userId)
    {
        if (string.IsNullOrEmpty(e.Event)) return MappingResult.Invalid("track without an event name: Salesmachine needs event_uid");
        return MappingResult.Send(Event(Steps.Event, userId, e.Event, ParamsWithAccountUid(json, "properties")));
    }

    static MappingResult Group(JsonElement json, string? userId)
    {
        var groupId = Id(json, "groupId");
        if (groupId is null) return MappingResult.Invalid("group without groupId: Salesmachine keys accounts on it");
        var account = PartnerRequest.Post(Steps.Account, AccountPath,
            new JsonObject { ["account_uid"] = groupId, ["params"] = CopyOf(json, "traits") });
        if (userId is null) return MappingResult.Send(account);
        // Links the user to the account: a contact update carrying only params.account_uid.
        var link = Contact(Steps.ContactLink, userId, new JsonObject { ["account_uid"] = groupId });
        return MappingResult.Send(account, link);
    }

    static MappingResult Alias(JsonElement json, string userId, string aliasPath)
    {
        var previousId = Id(json, "previousId");
        if (previousId is null) return MappingResult.Invalid("alias without previousId: nothing to merge");
        return MappingResult.Send(PartnerRequest.Post(Steps.Alias, aliasPath,
            new JsonObject { ["contact_uid"] = userId, ["previous_contact_uid"] = previousId }));
    }

    internal static PartnerRequest Contact(string step, string userId, JsonObject parameters) =>
        PartnerRequest.Post(step, ContactPath, new JsonObject { ["contact_uid"] = userId, ["params"] = parameters });

    internal static PartnerRequest Event(string step, string userId, string eventUid, JsonObject parameters) =>
        PartnerRequest.Post(step, EventPath,
            new JsonObject { ["contact_uid"] = userId, ["event_uid"] = eventUid, ["params"] = parameters });

    /// <summary>
    /// The event's <paramref name="member"/> (properties) as params, with <c>account_uid</c> from <c>context.groupId</c> added
    /// when they do not carry one already: Salesmachine links an event to an account only through <c>params.account_uid</c>
    /// (seed, "Track").
    /// </summary>
    internal static JsonObject ParamsWithAccountUid(JsonElement json, string member)
    {
        var parameters = CopyOf(json, member);
        var source = PartnerValues.Member(json, member);
        // Checked on the element, not the node: asking the node would build its members just to find none.
        if (PartnerValues.Member(source, "account_uid").ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            AddAccountUid(json, parameters);
        return parameters;
    }

    /// <summary>Sets <c>account_uid</c> from <c>context.groupId</c> when there is one (the caller knows none is set).</summary>
    internal static void AddAccountUid(JsonElement json, JsonObject parameters)
    {
        if (Text(PartnerValues.Member(PartnerValues.Member(json, "context"), "groupId")) is { } groupId) parameters["account_uid"] = groupId;
    }

    /// <summary>Traits/properties in the order sent, as a new node over the event's bytes (the event is not shared with
    /// the body, and nothing is copied unless a key is added); <c>{}</c> when absent, null or not an object.</summary>
    internal static JsonObject CopyOf(JsonElement json, string member) =>
        PartnerValues.Member(json, member) is { ValueKind: JsonValueKind.Object } source ? JsonObject.Create(source)! : new JsonObject();

    /// <summary>
    /// An id as Salesmachine gets it. Ingress stores ids as strings (D3); a number is still accepted here so a stored event
    /// that escaped coercion is not silently dropped. An empty string is no id (it would key every such event to one contact).
    /// </summary>
    internal static string? Id(JsonElement json, string name) => Text(PartnerValues.Member(json, name));

    /// <summary>A non-empty string, or a number's JSON text; null for anything else.</summary>
    internal static string? Text(JsonElement value) => PartnerValues.Text(value);
}
