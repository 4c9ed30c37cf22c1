using System.Text.Json.Nodes;
using Destinations.Core.Delivery;

namespace Destinations.Storage.Delivery;

/// <summary>The stored form of a delivery plan (D11): a JSON array of {step, method, path, body}. Holds no secret.</summary>
public static class PlanSerializer
{
    public static string Serialize(IReadOnlyList<PartnerRequest> plan) =>
        new JsonArray(plan.Select(r => (JsonNode)new JsonObject
        {
            ["step"] = r.Step,
            ["method"] = r.Method,
            ["path"] = r.Path,
            ["body"] = r.Body?.DeepClone(),
        }).ToArray()).ToJsonString();

    public static IReadOnlyList<PartnerRequest> Deserialize(string json)
    {
        var array = JsonNode.Parse(json) as JsonArray ?? throw new FormatException("stored plan is not a JSON array");
        return array.Select(n => n as JsonObject ?? throw new FormatException("stored plan step is not a JSON object"))
            .Select(o => new PartnerRequest(
                Required(o, "step"), Required(o, "method"), Required(o, "path"), o["body"]?.DeepClone()))
            .ToList();
    }

    static string Required(JsonObject o, string name) =>
        o[name]?.GetValue<string>() ?? throw new FormatException($"stored plan step has no '{name}'");
}
