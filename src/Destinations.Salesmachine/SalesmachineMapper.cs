using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;
using static Destinations.Salesmachine.SalesmachineApi;

namespace Destinations.Salesmachine;

/// <summary>
/// Pure: one Segment event + the instance's settings → the ordered Salesmachine requests (D11), or why none are sent (D8).
/// The table it implements is in docs/partners/salesmachine.md "Mapping"; the fixtures in the tests pin every row of it.
/// </summary>
public static class SalesmachineMapper
{
    public static MappingResult Map(SegmentEvent e, SalesmachineSettings settings)
    {
        var userId = Id(e, "userId");
        return e.Type switch
        {
            // D18: the one exception to "anonymous-only events are filtered": the account call still goes.
            CallTypes.Group => Group(e, userId),
            // Checked before the userId rule: without an endpoint, the missing id is not the reason it is not sent.
            // D15: Salesmachine publishes no alias endpoint; AliasPath names one when the account has it.
            CallTypes.Alias when settings.AliasPath is null => MappingResult.Filtered(FilterReason.NoAliasPath),
            // Salesmachine keys contacts on the customer's user id.
            _ when userId is null => MappingResult.Filtered(FilterReason.NoUserId),
            CallTypes.Identify => MappingResult.Send(Contact(Steps.Contact, userId, CopyOf(e.Traits))),
            CallTypes.Track => Track(e, userId),
            CallTypes.Page => SalesmachinePageMapping.Map(e, userId),
            CallTypes.Alias => Alias(e, userId, settings.AliasPath!),
            _ => MappingResult.Filtered(FilterReason.CallTypeNotAccepted, CallTypes.Describe(e.Type)),
        };
    }

    static MappingResult Track(SegmentEvent e, string userId)
    {
        if (string.IsNullOrEmpty(e.Event)) return MappingResult.Invalid("track without an event name: Salesmachine needs event_uid");
        var parameters = CopyOf(e.Properties);
        AddAccountUid(e, parameters);
        return MappingResult.Send(Event(Steps.Event, userId, e.Event, parameters));
    }

    static MappingResult Group(SegmentEvent e, string? userId)
    {
        var groupId = Id(e, "groupId");
        if (groupId is null) return MappingResult.Invalid("group without groupId: Salesmachine keys accounts on it");
        var account = PartnerRequest.Post(Steps.Account, AccountPath,
            new JsonObject { ["account_uid"] = groupId, ["params"] = CopyOf(e.Traits) });
        if (userId is null) return MappingResult.Send(account);
        // Links the user to the account: a contact update carrying only params.account_uid.
        var link = Contact(Steps.ContactLink, userId, new JsonObject { ["account_uid"] = groupId });
        return MappingResult.Send(account, link);
    }

    static MappingResult Alias(SegmentEvent e, string userId, string aliasPath)
    {
        var previousId = Id(e, "previousId");
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
    /// Adds <c>account_uid</c> from <c>context.groupId</c> when the properties do not carry one already: Salesmachine links
    /// an event to an account only through <c>params.account_uid</c> (seed, "Track").
    /// </summary>
    internal static void AddAccountUid(SegmentEvent e, JsonObject parameters)
    {
        if (parameters["account_uid"] is not null) return;
        if (Text(e.Context?["groupId"]) is { } groupId) parameters["account_uid"] = groupId;
    }

    /// <summary>A deep copy of traits/properties in the order sent; <c>{}</c> when absent, null or not an object.</summary>
    internal static JsonObject CopyOf(JsonObject? source) => source?.DeepClone() as JsonObject ?? new JsonObject();

    /// <summary>
    /// An id as Salesmachine gets it. Ingress stores ids as strings (D3); a number is still accepted here so a stored event
    /// that escaped coercion is not silently dropped. An empty string is no id (it would key every such event to one contact).
    /// </summary>
    internal static string? Id(SegmentEvent e, string name) => Text(e.Json[name]);

    /// <summary>A non-empty string, or a number's JSON text; null for anything else.</summary>
    internal static string? Text(JsonNode? node) => PartnerValues.Text(node);
}
