using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Destinations.Core.Segment;
using static Destinations.Salesmachine.SalesmachineApi;

namespace Destinations.Salesmachine;

/// <summary>
/// Pure: one Segment event + the instance's settings → the ordered Salesmachine requests (D11), or why none are sent (D8).
/// The table it implements is in docs/partners/salesmachine.md "Mapping"; the fixtures in the tests pin every row of it.
/// It reads the event's bytes (<see cref="SegmentEvent.CurrentUtf8Json"/>) without a DOM, and traits/properties go into the
/// partner body as nodes that write those bytes (<see cref="Utf8Json.Node"/>) rather than deep copies: the bodies are what
/// copying the DOM would write, byte for byte.
/// </summary>
public static class SalesmachineMapper
{
    /// <summary>The event members the mapping reads, in one pass; indexes below.</summary>
    static readonly byte[][] EventMembers =
        [.. new[] { "userId", "groupId", "previousId", "traits", "properties", "context", "name", "category" }.Select(Encoding.UTF8.GetBytes)];

    const int UserIdAt = 0, GroupIdAt = 1, PreviousIdAt = 2, TraitsAt = 3, PropertiesAt = 4, ContextAt = 5;
    const int NameAt = 6, CategoryAt = 7;

    static readonly byte[][] AccountUid = [Encoding.UTF8.GetBytes("account_uid")];
    static readonly byte[][] GroupId = [Encoding.UTF8.GetBytes("groupId")];

    public static MappingResult Map(SegmentEvent e, SalesmachineSettings settings)
    {
        var members = e.CurrentMembers(EventMembers);
        var userId = Text(members[UserIdAt]);
        return e.Type switch
        {
            // D18: the one exception to "anonymous-only events are filtered": the account call still goes.
            CallTypes.Group => Group(members, userId),
            // Checked before the userId rule: without an endpoint, the missing id is not the reason it is not sent.
            // D15: Salesmachine publishes no alias endpoint; AliasPath names one when the account has it.
            CallTypes.Alias when settings.AliasPath is null => MappingResult.Filtered(FilterReason.NoAliasPath),
            // Salesmachine keys contacts on the customer's user id.
            _ when userId is null => MappingResult.Filtered(FilterReason.NoUserId),
            CallTypes.Identify => MappingResult.Send(Contact(Steps.Contact, userId, CopyOf(members[TraitsAt]))),
            CallTypes.Track => Track(e, members, userId),
            CallTypes.Page => SalesmachinePageMapping.Map(members[NameAt], members[CategoryAt], members[PropertiesAt], members[ContextAt], userId),
            CallTypes.Alias => Alias(members, userId, settings.AliasPath!),
            _ => MappingResult.Filtered(FilterReason.CallTypeNotAccepted, CallTypes.Describe(e.Type)),
        };
    }

    static MappingResult Track(SegmentEvent e, ReadOnlyMemory<byte>[] members, string userId)
    {
        if (string.IsNullOrEmpty(e.Event)) return MappingResult.Invalid("track without an event name: Salesmachine needs event_uid");
        var properties = members[PropertiesAt];
        var accountUid = Utf8Json.Members(properties, AccountUid)[0];
        // context is only read when the properties carry no account_uid.
        var groupId = Utf8Json.IsSet(accountUid) ? null : Text(Utf8Json.Members(members[ContextAt], GroupId)[0]);
        return MappingResult.Send(Event(Steps.Event, userId, e.Event, ParamsWithAccountUid(properties, accountUid, groupId)));
    }

    static MappingResult Group(ReadOnlyMemory<byte>[] members, string? userId)
    {
        var groupId = Text(members[GroupIdAt]);
        if (groupId is null) return MappingResult.Invalid("group without groupId: Salesmachine keys accounts on it");
        var account = PartnerRequest.Post(Steps.Account, AccountPath,
            new JsonObject { ["account_uid"] = groupId, ["params"] = CopyOf(members[TraitsAt]) });
        if (userId is null) return MappingResult.Send(account);
        // Links the user to the account: a contact update carrying only params.account_uid.
        var link = Contact(Steps.ContactLink, userId, new JsonObject { ["account_uid"] = groupId });
        return MappingResult.Send(account, link);
    }

    static MappingResult Alias(ReadOnlyMemory<byte>[] members, string userId, string aliasPath)
    {
        var previousId = Text(members[PreviousIdAt]);
        if (previousId is null) return MappingResult.Invalid("alias without previousId: nothing to merge");
        return MappingResult.Send(PartnerRequest.Post(Steps.Alias, aliasPath,
            new JsonObject { ["contact_uid"] = userId, ["previous_contact_uid"] = previousId }));
    }

    internal static PartnerRequest Contact(string step, string userId, JsonNode parameters) =>
        PartnerRequest.Post(step, ContactPath, new JsonObject { ["contact_uid"] = userId, ["params"] = parameters });

    internal static PartnerRequest Event(string step, string userId, string eventUid, JsonNode parameters) =>
        PartnerRequest.Post(step, EventPath,
            new JsonObject { ["contact_uid"] = userId, ["event_uid"] = eventUid, ["params"] = parameters });

    /// <summary>
    /// The event's properties as params, with <c>account_uid</c> from <c>context.groupId</c> added when they do not carry one
    /// already: Salesmachine links an event to an account only through <c>params.account_uid</c> (seed, "Track").
    /// </summary>
    /// <param name="accountUid">properties.account_uid as written (empty when absent).</param>
    /// <param name="groupId">context.groupId as an id (<see cref="Text"/>).</param>
    internal static JsonNode ParamsWithAccountUid(ReadOnlyMemory<byte> properties, ReadOnlyMemory<byte> accountUid, string? groupId)
    {
        if (Utf8Json.IsSet(accountUid) || groupId is null) return CopyOf(properties);
        if (!Utf8Json.IsObject(properties)) return new JsonObject { ["account_uid"] = groupId };
        if (accountUid.IsEmpty) return Utf8Json.WithString(properties, "account_uid", groupId);
        // "account_uid": null is replaced where it stands, as setting it on the DOM does.
        var parameters = Utf8Json.Node(properties).DeepClone().AsObject();
        parameters["account_uid"] = groupId;
        return parameters;
    }

    /// <summary>Traits/properties in the order sent (written from the event's bytes); <c>{}</c> when absent, null or not an object.</summary>
    internal static JsonNode CopyOf(ReadOnlyMemory<byte> source) => Utf8Json.IsObject(source) ? Utf8Json.Node(source) : new JsonObject();

    /// <summary>
    /// An id or text as Salesmachine gets it: a non-empty string, or a number's JSON text (ingress stores ids as strings, D3,
    /// but a stored event that escaped coercion is not silently dropped); null for anything else. An empty string is no id
    /// (it would key every such event to one contact). The same rule as <see cref="PartnerValues.Text"/>.
    /// </summary>
    internal static string? Text(ReadOnlyMemory<byte> value) => Utf8Json.Text(value);
}
