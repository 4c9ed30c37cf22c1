using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;

namespace Destinations.Selligent;

/// <summary>
/// group → static segment ADD or REMOVE, then the event row (D11, D19; seed "Group"). <c>groupId</c> is the segment's api
/// name, <c>userId</c> the value matched on <c>traits.matchkey</c> in <c>traits.userlist</c>; <c>traits.method</c> absent,
/// null or empty means ADD. A missing mandatory trait or another method makes the whole delivery invalid: nothing is sent, not even the event row (D19).
/// </summary>
public static class SelligentGroupMapping
{
    /// <param name="members">The event's members as <see cref="SelligentMapper"/> read them (empty when absent).</param>
    public static MappingResult Map(ReadOnlyMemory<byte>[] members, string userId, SelligentSettings settings, PartnerRequest row)
    {
        var segment = Utf8Json.Text(members[SelligentMapper.GroupIdAt]);
        if (segment is null) return MappingResult.Invalid("group without groupId: it names the SMC static segment");
        // Members of traits that are not an object read as absent, as they do through the DOM.
        var traits = Utf8Json.Members(members[SelligentMapper.TraitsAt], TraitMembers);
        var matchKey = Utf8Json.Text(traits[MatchKey]);
        if (matchKey is null)
            return MappingResult.Invalid("group trait 'matchkey' is missing: the userlist field to match userId on is mandatory");
        var userList = Utf8Json.Text(traits[UserList]);
        if (userList is null)
            return MappingResult.Invalid("group trait 'userlist' is missing: the api name of the SMC userlist is mandatory");

        // The seed calls method optional with ADD by default: absent, JSON null and "" all mean ADD (D19).
        var method = traits[Method];
        var remove = false;
        if (Utf8Json.IsSet(method) && Utf8Json.StringOf(method) is not "")
        {
            var m = Utf8Json.Text(method);
            if (string.Equals(m, "REMOVE", StringComparison.OrdinalIgnoreCase)) remove = true;
            else if (!string.Equals(m, "ADD", StringComparison.OrdinalIgnoreCase))
                return MappingResult.Invalid($"group trait 'method' is {JsonNode.Parse(method.Span)!.ToJsonString()}: only ADD or REMOVE");
        }

        // [[matchkey], [value]]: the load format's header row + one data row (docs/partners/selligent.md "Static segment add").
        var body = new JsonArray(new JsonArray(matchKey), new JsonArray(userId));
        var org = settings.Organization;
        var op = remove
            ? new PartnerRequest(SelligentApi.Steps.SegmentRemove, "DELETE", SelligentApi.SegmentRemovePath(org, userList, segment, matchKey), body)
            : PartnerRequest.Post(SelligentApi.Steps.SegmentAdd, SelligentApi.SegmentAddPath(org, userList, segment, matchKey), body);
        return MappingResult.Send(op, row);
    }

    static readonly byte[][] TraitMembers = [.. new[] { "matchkey", "userlist", "method" }.Select(System.Text.Encoding.UTF8.GetBytes)];
    const int MatchKey = 0, UserList = 1, Method = 2;
}
