using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Destinations.Core.Segment;

namespace Destinations.UserMotion;

/// <summary>
/// Pure: event + mapping → the one UserMotion request, or why none is sent. The bodies are what Segment's <c>perform</c>
/// functions send: object fields always present (<c>{...traits}</c> gives <c>{}</c>), ids left out when missing or empty.
/// </summary>
public static class UserMotionRequests
{
    public static MappingResult Map(SegmentEvent e, ActionMapping mapping)
    {
        var built = ActionPayload.Build(mapping, e.Json);
        if (built.Payload is not { } p) return MappingResult.Invalid(built.InvalidReason!);
        return MappingResult.Send(mapping.Action.Key switch
        {
            "identify" => Identify(p),
            "group" => Group(p),
            "track" => Track(p),
            var key => throw new InvalidOperationException($"UserMotion has no action '{key}'"),
        });
    }

    static PartnerRequest Identify(JsonObject p)
    {
        var body = new JsonObject { ["id"] = Copy(p["userId"]) };
        Put(body, "anonymousId", p);
        var properties = Spread(p["traits"]);
        // {...traits, email}: email wins; an existing key keeps its place, as in a JavaScript object spread.
        properties["email"] = Copy(p["email"]);
        body["properties"] = properties;
        return PartnerRequest.Post("identify", UserMotionApi.IdentifyPath, body);
    }

    static PartnerRequest Group(JsonObject p)
    {
        var body = new JsonObject { ["id"] = Copy(p["groupId"]) };
        Put(body, "userId", p);
        Put(body, "anonymousId", p);
        body["properties"] = Spread(p["traits"]);
        return PartnerRequest.Post("group", UserMotionApi.GroupPath, body);
    }

    static PartnerRequest Track(JsonObject p)
    {
        var body = new JsonObject { ["event"] = Copy(p["eventName"]) };
        Put(body, "userId", p);
        Put(body, "anonymousId", p);
        body["context"] = Spread(p["context"]);
        body["properties"] = Spread(p["properties"]);
        return PartnerRequest.Post("track", UserMotionApi.TrackPath, body);
    }

    /// <summary>Ids are written only when mapped: nulls and empty strings were removed from the payload already.</summary>
    static void Put(JsonObject body, string key, JsonObject payload)
    {
        if (payload[key] is { } value) body[key] = value.DeepClone();
    }

    static JsonObject Spread(JsonNode? value) => value?.DeepClone() as JsonObject ?? new JsonObject();

    static JsonNode? Copy(JsonNode? value) => value?.DeepClone();
}
