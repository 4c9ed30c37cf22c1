using System.Text.Json;
using System.Text.Json.Nodes;

namespace Destinations.Core.Routing;

/// <summary>The Segment Integrations object (docs/ingress.md "Integrations object", D9).</summary>
public static class IntegrationsObject
{
    /// <summary>
    /// Whether an instance is enabled: its own <c>Id</c> key wins, then the destination name (exact, case-sensitive), then
    /// <c>All</c> (default true). <c>false</c> disables; <c>true</c> or an object (options) enables.
    /// </summary>
    public static bool IsEnabled(JsonObject? integrations, string instanceId, string integrationName)
    {
        if (integrations is null) return true;
        if (Flag(integrations, instanceId) is { } byId) return byId;
        if (Flag(integrations, integrationName) is { } byName) return byName;
        return Flag(integrations, "All") ?? true;
    }

    static bool? Flag(JsonObject integrations, string key)
    {
        if (!integrations.TryGetPropertyValue(key, out var node) || node is null) return null;
        return node.GetValueKind() switch
        {
            JsonValueKind.False => false,
            JsonValueKind.True or JsonValueKind.Object => true,
            _ => null, // a string or number is not a Segment form: treated as not listed
        };
    }
}
