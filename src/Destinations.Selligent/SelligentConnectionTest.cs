using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;

namespace Destinations.Selligent;

/// <summary>
/// Test-connection (partners/selligent.md "Health"): <c>GET /Portal/Api/status</c>, then the events list's fields, checking
/// that every configured column exists — a missing column would otherwise only show as failed loads.
/// </summary>
public static class SelligentConnectionTest
{
    public static async Task<ConnectionCheck> RunAsync(SelligentClient client, SelligentSettings settings, CancellationToken ct)
    {
        var (status, _) = await client.GetAsync(SelligentApi.StatusPath, settings, ct).ConfigureAwait(false);
        var steps = new List<ConnectionCheckStep> { ConnectionCheckStep.From($"status (GET {SelligentApi.StatusPath})", status) };
        if (!status.IsSuccess) return new ConnectionCheck(steps); // nothing else can work; the status step says why

        var path = SelligentApi.FieldsPath(settings.Organization, settings.EventsDataListApiName);
        var name = $"events list columns (GET {path})";
        var (fields, body) = await client.GetAsync(path, settings, ct).ConfigureAwait(false);
        if (!fields.IsSuccess) { steps.Add(ConnectionCheckStep.From(name, fields)); return new ConnectionCheck(steps); }

        var present = FieldNames(body);
        if (present is null)
        {
            steps.Add(new ConnectionCheckStep(name, false, fields.StatusCode, "could not read a field list from the answer"));
            return new ConnectionCheck(steps);
        }
        var missing = settings.Columns.All.Select(c => c.Name).Where(c => !present.Contains(c)).ToList();
        steps.Add(missing.Count == 0
            ? new ConnectionCheckStep(name, true, fields.StatusCode, "ok")
            : new ConnectionCheckStep(name, false, fields.StatusCode,
                $"list '{settings.EventsDataListApiName}' has no column {string.Join(", ", missing)} (create it in SMC or set Settings:Columns)"));
        return new ConnectionCheck(steps);
    }

    /// <summary>
    /// Field names from the answer. The fields schema is not pinned by the contract, so read defensively: an array (or an
    /// object's <c>fields</c>/<c>items</c>/<c>data</c> array) of strings or of objects with <c>name</c>/<c>field_name</c>/<c>api_name</c>.
    /// Compared case-insensitively (SMC field names are upper-case by convention).
    /// </summary>
    public static HashSet<string>? FieldNames(string? body)
    {
        JsonNode? root;
        try { root = string.IsNullOrWhiteSpace(body) ? null : JsonNode.Parse(body); }
        catch (JsonException) { return null; }
        var array = root as JsonArray
            ?? (root as JsonObject)?["fields"] as JsonArray
            ?? (root as JsonObject)?["items"] as JsonArray
            ?? (root as JsonObject)?["data"] as JsonArray;
        if (array is null) return null;
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in array)
        {
            var n = item switch
            {
                JsonValue v => SelligentMapper.Text(v),
                JsonObject o => SelligentMapper.Text(o["name"]) ?? SelligentMapper.Text(o["field_name"]) ?? SelligentMapper.Text(o["api_name"]),
                _ => null,
            };
            if (n is not null) names.Add(n);
        }
        return names;
    }
}
