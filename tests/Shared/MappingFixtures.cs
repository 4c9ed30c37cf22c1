using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Testing;

/// <summary>
/// The fixture runner's shared half for the partner test projects (linked file): each <c>Fixtures/*.json</c> holds an event and
/// the expected mapping; adding a case is adding a file (RudderStack style).
/// </summary>
public static class MappingFixtures
{
    static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true };

    /// <summary>Every fixture file name, in a stable order, for <c>[MemberData]</c>.</summary>
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var file in System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(file));
        return data;
    }

    public static JsonObject Load(string name) => JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, name)))!.AsObject();

    public static IReadOnlyList<JsonObject> LoadAll() =>
        System.IO.Directory.GetFiles(Directory, "*.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!.AsObject()).ToList();

    /// <summary>A mapping result as the fixtures write it; with a subscription (Actions destinations) that key comes first.</summary>
    public static JsonObject ToJson(MappingResult result, string? subscription = null)
    {
        var json = new JsonObject();
        if (subscription is not null) json["subscription"] = subscription;
        if (result.Outcome != MappingOutcome.Send)
        {
            json["outcome"] = result.Outcome.ToString();
            json["reason"] = result.Reason; // Filtered: the code; Invalid: the rule in words
            if (result.Detail is not null) json["detail"] = result.Detail;
            return json;
        }
        var requests = new JsonArray();
        foreach (var r in result.Requests)
            requests.Add(new JsonObject { ["step"] = r.Step, ["method"] = r.Method, ["path"] = r.Path, ["body"] = r.Body?.DeepClone() });
        json["outcome"] = "Send";
        json["requests"] = requests;
        return json;
    }

    /// <summary>Equal JSON, or a failure showing both sides pretty-printed with the fixture's description.</summary>
    public static void AssertExpected(string fixture, JsonObject doc, JsonNode actual)
    {
        var expected = doc["expected"]!;
        Assert.True(JsonNode.DeepEquals(expected, actual),
            $"{fixture}: {doc["description"]}\n--- expected\n{expected.ToJsonString(Pretty)}\n--- actual\n{actual.ToJsonString(Pretty)}");
    }

    /// <summary>Mappers are pure: the stored event is not touched (SegmentEvent: "treat Json as read-only").</summary>
    public static void AssertUntouched(string fixture, JsonNode snapshot, SegmentEvent e) =>
        Assert.True(JsonNode.DeepEquals(snapshot, e.Json), $"{fixture}: mapping modified the event");
}
