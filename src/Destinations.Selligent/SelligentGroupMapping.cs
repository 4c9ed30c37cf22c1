using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Selligent;

/// <summary>
/// group → static segment ADD or REMOVE, then the event row (D11, D19; seed "Group"). <c>groupId</c> is the segment's api
/// name, <c>userId</c> the value matched on <c>traits.matchkey</c> in <c>traits.userlist</c>; <c>traits.method</c> absent,
/// null or empty means ADD. A missing mandatory trait or another method makes the whole delivery invalid: nothing is sent, not even the event row (D19).
/// </summary>
public static class SelligentGroupMapping
{
    public static MappingResult Map(SegmentEvent e, string userId, SelligentSettings settings, PartnerRequest row)
    {
        var segment = SelligentMapper.Text(e.Json["groupId"]);
        if (segment is null) return MappingResult.Invalid("group without groupId: it names the SMC static segment");
        var traits = e.Traits;
        var matchKey = SelligentMapper.Text(traits?["matchkey"]);
        if (matchKey is null)
            return MappingResult.Invalid("group trait 'matchkey' is missing: the userlist field to match userId on is mandatory");
        var userList = SelligentMapper.Text(traits?["userlist"]);
        if (userList is null)
            return MappingResult.Invalid("group trait 'userlist' is missing: the api name of the SMC userlist is mandatory");

        // The seed calls method optional with ADD by default: absent, JSON null and "" all mean ADD (D19).
        var method = traits?["method"];
        var remove = false;
        if (method is not null && !IsEmptyString(method))
        {
            var m = SelligentMapper.Text(method);
            if (string.Equals(m, "REMOVE", StringComparison.OrdinalIgnoreCase)) remove = true;
            else if (!string.Equals(m, "ADD", StringComparison.OrdinalIgnoreCase))
                return MappingResult.Invalid($"group trait 'method' is {method.ToJsonString()}: only ADD or REMOVE");
        }

        // [[matchkey], [value]]: the load format's header row + one data row (docs/partners/selligent.md "Static segment add").
        var body = new JsonArray(new JsonArray(matchKey), new JsonArray(userId));
        var org = settings.Organization;
        var op = remove
            ? new PartnerRequest(SelligentApi.Steps.SegmentRemove, "DELETE", SelligentApi.SegmentRemovePath(org, userList, segment, matchKey), body)
            : PartnerRequest.Post(SelligentApi.Steps.SegmentAdd, SelligentApi.SegmentAddPath(org, userList, segment, matchKey), body);
        return MappingResult.Send(op, row);
    }

    static bool IsEmptyString(JsonNode method) =>
        method is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String && v.GetValue<string>().Length == 0;
}
