using System.Text.Json;
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
        var built = Utf8ActionPayload.Build(mapping, e, CopiedWhole);
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
        body["properties"] = WithEmail(p["traits"], p["email"]);
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

    /// <summary>
    /// {...traits, email}: email wins; an existing key keeps its place, as in a JavaScript object spread. Traits copied from
    /// the event's bytes stay so when email is added at the end or is already there with that text.
    /// </summary>
    static JsonNode WithEmail(JsonNode? traits, JsonNode? email)
    {
        if (Utf8Json.TryGetUtf8(traits, out var raw) && Utf8Json.IsObject(raw)
            && email is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            var text = v.GetValue<string>();
            var existing = Utf8Json.Members(raw, EmailName)[0];
            if (existing.IsEmpty) return Utf8Json.WithString(raw, "email", text);
            if (Utf8Json.StringOf(existing) == text) return Utf8Json.Node(raw);
        }
        var properties = traits?.DeepClone() as JsonObject ?? new JsonObject();
        properties["email"] = Copy(email);
        return properties;
    }

    static readonly byte[][] EmailName = ["email"u8.ToArray()];

    /// <summary>The object fields are only written into the body, so they may hold values that write the event's bytes.</summary>
    static bool CopiedWhole(string field) => field is "traits" or "context" or "properties";

    /// <summary>An object field as the body's own value: a copied one as a new node over the same bytes, else a deep copy.</summary>
    static JsonNode Spread(JsonNode? value) => Utf8Json.TryGetUtf8(value, out var raw)
        ? Utf8Json.IsObject(raw) ? Utf8Json.Node(raw) : new JsonObject()
        : value?.DeepClone() as JsonObject ?? new JsonObject();

    static JsonNode? Copy(JsonNode? value) => value?.DeepClone();
}
