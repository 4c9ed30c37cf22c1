using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;

namespace Destinations.Selligent;

/// <summary>
/// Test-connection (docs/partners/selligent.md "Health"): <c>GET /Portal/Api/status</c>, then the events list's fields, checking
/// that every configured column exists — a missing column would otherwise only show as failed loads — then, for each
/// configured <c>GroupSegments</c> entry, that the userlist has that segment and that it is static.
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

        foreach (var userList in settings.GroupSegments.GroupBy(g => g.UserList, StringComparer.Ordinal))
            steps.Add(await CheckSegmentsAsync(client, settings, userList.Key, userList.Select(g => g.Segment).ToList(), ct).ConfigureAwait(false));
        return new ConnectionCheck(steps);
    }

    /// <summary>Group calls load static segments (seed: "The static segment must be created … before you can use it").</summary>
    static async Task<ConnectionCheckStep> CheckSegmentsAsync(SelligentClient client, SelligentSettings settings, string userList,
        IReadOnlyList<string> wanted, CancellationToken ct)
    {
        var path = SelligentApi.SegmentsPath(settings.Organization, userList);
        var name = $"group segments of '{userList}' (GET {path})";
        var (answer, body) = await client.GetAsync(path, settings, ct).ConfigureAwait(false);
        if (!answer.IsSuccess) return ConnectionCheckStep.From(name, answer);
        var segments = SegmentTypes(body);
        if (segments is null) return new ConnectionCheckStep(name, false, answer.StatusCode, "could not read a segment list from the answer");
        var problems = new List<string>();
        foreach (var segment in wanted)
        {
            if (!segments.TryGetValue(segment, out var type)) problems.Add($"no segment '{segment}'");
            else if (type is not null && !type.Equals("static", StringComparison.OrdinalIgnoreCase))
                problems.Add($"segment '{segment}' is {type}, not static (only static segments can be loaded)");
        }
        return problems.Count == 0
            ? new ConnectionCheckStep(name, true, answer.StatusCode, "ok")
            : new ConnectionCheckStep(name, false, answer.StatusCode, string.Join("; ", problems));
    }

    /// <summary>
    /// Segment api name → type (null when the answer gives none), read as defensively as <see cref="FieldNames"/>: an array (or
    /// an object's <c>segments</c>/<c>items</c>/<c>data</c> array) of objects with <c>api_name</c>/<c>name</c> and <c>type</c>.
    /// </summary>
    public static Dictionary<string, string?>? SegmentTypes(string? body)
    {
        JsonNode? root;
        try { root = string.IsNullOrWhiteSpace(body) ? null : JsonNode.Parse(body); }
        catch (JsonException) { return null; }
        var array = root as JsonArray
            ?? (root as JsonObject)?["segments"] as JsonArray
            ?? (root as JsonObject)?["items"] as JsonArray
            ?? (root as JsonObject)?["data"] as JsonArray;
        if (array is null) return null;
        var segments = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in array.OfType<JsonObject>())
            if ((SelligentMapper.Text(item["api_name"]) ?? SelligentMapper.Text(item["name"])) is { } apiName)
                segments[apiName] = SelligentMapper.Text(item["type"]);
        return segments;
    }

    /// <summary>
    /// Field names from the answer. The fields schema is not pinned by SMC's published Swagger, so read defensively: an array (or an
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
