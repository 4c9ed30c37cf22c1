using System.Text.Json.Nodes;

namespace Destinations.Core.Delivery;

/// <summary>
/// One partner HTTP call as plain data: what a mapper produces, what the store keeps as a step of the delivery plan (D11),
/// what the dry-run shows. <paramref name="Path"/> is relative to the instance's base URL; auth headers are added by the
/// partner client, never put here (so plans and dry-runs hold no secret).
/// </summary>
/// <param name="Step">A short name for this step of the plan, e.g. <c>contact</c>, <c>account</c>, <c>pageview</c>.</param>
public sealed record PartnerRequest(string Step, string Method, string Path, JsonNode? Body)
{
    /// <summary>
    /// Headers a mapping chose (the Webhook destination's <c>headers</c> field), kept with the plan so a retry sends what the
    /// first attempt planned (D11). Never a resolved secret: a secret stays a <c>{{secrets.NAME}}</c> placeholder here (D29).
    /// Null for partners whose clients add every header themselves.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Headers { get; init; }

    public static PartnerRequest Post(string step, string path, JsonNode body) => new(step, "POST", path, body);
}
