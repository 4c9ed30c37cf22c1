using Microsoft.Extensions.Configuration;

namespace Destinations.Selligent;

/// <summary>
/// Reads and validates an instance's <c>Settings</c> section under the API's names (D19). Every error names its key
/// path and the rule ("Destinations[1].Settings.SmcAdminUrl: …"); no message echoes a secret or a whole URL (D22).
/// </summary>
public static class SelligentSettingsReader
{
    static readonly string[] Known =
    [
        "ApiKey", "ApiSecret", "SmcAdminUrl", "Organization", "AllowedEvents", "EventsDataListApiName",
        "SendAliasEvents", "SendGroupEvents", "SendPageEvents", "SendScreenEvents", "Columns", "GroupSegments",
    ];

    public sealed record Result(SelligentSettings? Settings, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings);

    /// <param name="settings">The instance's <c>Settings</c> section.</param>
    /// <param name="keyPath">Where the instance sits in configuration, e.g. <c>Destinations[1]</c>.</param>
    /// <param name="options">The service-wide SSRF guard options.</param>
    public static Result Read(IConfigurationSection settings, string keyPath, SelligentOptions options)
    {
        var errors = new List<string>();
        var warnings = new List<string>();
        var at = $"{keyPath}.Settings";

        string? Required(string key)
        {
            var value = settings[key];
            if (!string.IsNullOrWhiteSpace(value)) return value.Trim();
            errors.Add($"{at}.{key}: is required");
            return null;
        }

        var apiKey = Required("ApiKey");
        var apiSecret = Required("ApiSecret");
        var url = SmcAdminUrlGuard.Check(settings["SmcAdminUrl"], options, out var urlError);
        if (urlError is not null) errors.Add($"{at}.SmcAdminUrl: {urlError}");
        var organization = Required("Organization");

        // D19: an empty EventsDataListApiName means the default.
        var list = settings["EventsDataListApiName"];
        list = string.IsNullOrWhiteSpace(list) ? SelligentSettings.DefaultEventsDataListApiName : list.Trim();

        var allowed = AllowedEvents(settings.GetSection("AllowedEvents"), $"{at}.AllowedEvents", errors);
        if (allowed.Count == 0)
            warnings.Add($"{at}.AllowedEvents: is empty, so no track events will be sent to Selligent Marketing Cloud");

        var flags = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var key in new[] { "SendAliasEvents", "SendGroupEvents", "SendPageEvents", "SendScreenEvents" })
        {
            var raw = settings[key];
            if (string.IsNullOrWhiteSpace(raw)) flags[key] = false;
            else if (bool.TryParse(raw.Trim(), out var b)) flags[key] = b;
            else errors.Add($"{at}.{key}: must be true or false");
        }

        var columns = Columns(settings.GetSection("Columns"), $"{at}.Columns", errors, warnings);
        var groupSegments = GroupSegments(settings.GetSection("GroupSegments"), $"{at}.GroupSegments", errors);

        foreach (var child in settings.GetChildren())
            if (!Known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                warnings.Add($"{at}.{child.Key}: unknown setting, ignored (known: {string.Join(", ", Known)})");

        if (errors.Count > 0) return new Result(null, errors, warnings);
        return new Result(new SelligentSettings
        {
            ApiKey = apiKey!,
            ApiSecret = apiSecret!,
            SmcAdminUrl = url!,
            Organization = organization!,
            AllowedEvents = allowed,
            EventsDataListApiName = list,
            SendAliasEvents = flags["SendAliasEvents"],
            SendGroupEvents = flags["SendGroupEvents"],
            SendPageEvents = flags["SendPageEvents"],
            SendScreenEvents = flags["SendScreenEvents"],
            Columns = columns,
            GroupSegments = groupSegments,
        }, [], warnings);
    }

    /// <summary>A list of <c>USERLIST/SEGMENT</c> api names (<c>GroupSegments:0</c>, …), checked by the connection test.</summary>
    static List<(string UserList, string Segment)> GroupSegments(IConfigurationSection section, string at, List<string> errors)
    {
        var list = new List<(string, string)>();
        foreach (var child in section.GetChildren())
        {
            var parts = (child.Value ?? "").Split('/', StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0) list.Add((parts[0], parts[1]));
            else errors.Add($"{at}[{child.Key}]: must be 'USERLIST_API_NAME/SEGMENT_API_NAME'");
        }
        return list;
    }

    /// <summary>A list (<c>AllowedEvents:0</c>, …). Absent or an empty string = empty (D19). Names are kept exactly (exact match).</summary>
    static HashSet<string> AllowedEvents(IConfigurationSection section, string at, List<string> errors)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (section.Value is { Length: > 0 })
        {
            errors.Add($"{at}: must be a list of event names (AllowedEvents:0, AllowedEvents:1, …), not a single string");
            return set;
        }
        foreach (var child in section.GetChildren())
        {
            if (string.IsNullOrWhiteSpace(child.Value)) errors.Add($"{at}[{child.Key}]: must be a non-empty event name");
            else set.Add(child.Value);
        }
        return set;
    }

    static SelligentColumns Columns(IConfigurationSection section, string at, List<string> errors, List<string> warnings)
    {
        var defaults = new SelligentColumns();
        string Get(string key, string fallback)
        {
            var raw = section[key];
            if (raw is null) return fallback;
            if (string.IsNullOrWhiteSpace(raw)) { errors.Add($"{at}.{key}: must be a column name (default {fallback})"); return fallback; }
            return raw.Trim();
        }

        var columns = new SelligentColumns
        {
            MessageId = Get(nameof(SelligentColumns.MessageId), defaults.MessageId),
            EventType = Get(nameof(SelligentColumns.EventType), defaults.EventType),
            EventName = Get(nameof(SelligentColumns.EventName), defaults.EventName),
            UserId = Get(nameof(SelligentColumns.UserId), defaults.UserId),
            AnonymousId = Get(nameof(SelligentColumns.AnonymousId), defaults.AnonymousId),
            PreviousId = Get(nameof(SelligentColumns.PreviousId), defaults.PreviousId),
            GroupId = Get(nameof(SelligentColumns.GroupId), defaults.GroupId),
            EventTimestamp = Get(nameof(SelligentColumns.EventTimestamp), defaults.EventTimestamp),
            Properties = Get(nameof(SelligentColumns.Properties), defaults.Properties),
            Context = Get(nameof(SelligentColumns.Context), defaults.Context),
        };
        foreach (var duplicate in columns.All.GroupBy(c => c.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
            errors.Add($"{at}: column '{duplicate.Key}' is used for {string.Join(" and ", duplicate.Select(c => c.Key))}");
        foreach (var child in section.GetChildren())
            if (!SelligentColumns.Keys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                warnings.Add($"{at}.{child.Key}: unknown column setting, ignored (known: {string.Join(", ", SelligentColumns.Keys)})");
        return columns;
    }
}
