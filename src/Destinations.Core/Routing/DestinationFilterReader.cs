using System.Globalization;
using Destinations.Core.Mapping;
using Microsoft.Extensions.Configuration;

namespace Destinations.Core.Routing;

/// <summary>
/// Reads and validates an instance's <c>Filters</c> section at start (docs/configuration.md "Destination filters"). Every
/// problem is one error naming the key path (which instance, which filter) and the rule, e.g.
/// <c>Destinations[2].Filters[1].drop: unexpected token ')' at 14 (instance 'crm')</c>. Keys are matched without regard to
/// case, like every .NET configuration key (an environment variable <c>Destinations__0__Filters__0__DROP</c> is the same key).
/// </summary>
public static class DestinationFilterReader
{
    public const string Drop = "drop";
    public const string Only = "only";
    public const string Sample = "sample";
    public const string By = "by";
    public const string DropProperties = "dropProperties";
    public const string AllowProperties = "allowProperties";

    static readonly string[] Kinds = [Drop, Only, Sample, DropProperties, AllowProperties];
    static readonly string KindList = string.Join(", ", Kinds);
    static readonly string KeyList = string.Join(", ", Kinds.Append(By));

    /// <param name="filters">The instance's <c>Filters</c> section (may not exist).</param>
    /// <param name="keyPath">The instance's key path, e.g. <c>Destinations[0]</c>.</param>
    /// <param name="instanceId">Named in every error, so a long list of instances is easy to search.</param>
    public static InstanceFilters Read(IConfigurationSection filters, string keyPath, string instanceId, List<string> errors)
    {
        var at = $"{keyPath}.Filters";
        var suffix = $" (instance '{instanceId}')";
        if (filters.Value is { Length: > 0 })
        {
            errors.Add($"{at}: must be a list of filters, e.g. [{{\"drop\": \"type = \\\"page\\\"\"}}]{suffix}");
            return InstanceFilters.None;
        }
        var read = new List<DestinationFilter>();
        foreach (var entry in filters.GetChildren())
        {
            if (!int.TryParse(entry.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                errors.Add($"{at}.{entry.Key}: is not a list index; Filters is a list{suffix}");
                continue;
            }
            if (ReadOne(entry, index, $"{at}[{index}]", suffix, errors) is { } filter) read.Add(filter);
        }
        return read.Count == 0 ? InstanceFilters.None : new InstanceFilters(read);
    }

    static DestinationFilter? ReadOne(IConfigurationSection entry, int index, string at, string suffix, List<string> errors)
    {
        if (entry.Value is { Length: > 0 })
        {
            errors.Add($"{at}: must be an object naming one filter ({KindList}), not a value{suffix}");
            return null;
        }
        var keys = entry.GetChildren().ToList();
        var failed = false;
        foreach (var unknown in keys.Where(k => !Kinds.Append(By).Contains(k.Key, StringComparer.OrdinalIgnoreCase)))
        {
            errors.Add($"{at}.{unknown.Key}: unknown key (known: {KeyList}){suffix}");
            failed = true;
        }
        var kinds = keys.Where(k => Kinds.Contains(k.Key, StringComparer.OrdinalIgnoreCase)).ToList();
        if (kinds.Count == 0)
        {
            errors.Add($"{at}: names no filter (one of {KindList}){suffix}");
            return null;
        }
        if (kinds.Count > 1)
        {
            errors.Add($"{at}: names {kinds.Count} filters ({string.Join(", ", kinds.Select(k => k.Key))}); give each its own entry of the list{suffix}");
            return null;
        }
        var kind = kinds[0];
        var by = keys.FirstOrDefault(k => string.Equals(k.Key, By, StringComparison.OrdinalIgnoreCase));
        if (by is not null && !string.Equals(kind.Key, Sample, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{at}.{by.Key}: only a sample filter takes 'by'{suffix}");
            failed = true;
        }
        var filter = kind.Key.ToLowerInvariant() switch
        {
            "drop" => Condition(kind, $"{at}.{kind.Key}", suffix, errors) is { } c ? new DropFilter(index, c) : null,
            "only" => Condition(kind, $"{at}.{kind.Key}", suffix, errors) is { } c ? new OnlyFilter(index, c) : null,
            "sample" => ReadSample(kind, by, index, at, suffix, errors),
            "dropproperties" => Paths(kind, $"{at}.{kind.Key}", suffix, errors) is { } p ? new DropPropertiesFilter(index, p) : null,
            _ => Paths(kind, $"{at}.{kind.Key}", suffix, errors) is { } p ? (DestinationFilter)new AllowPropertiesFilter(index, p) : null,
        };
        return failed ? null : filter;
    }

    static Fql? Condition(IConfigurationSection value, string at, string suffix, List<string> errors)
    {
        if (value.GetChildren().Any() || string.IsNullOrWhiteSpace(value.Value))
        {
            errors.Add($"{at}: must be an FQL condition (a string such as: event = \"Test Event\"){suffix}");
            return null;
        }
        try
        {
            return Fql.Parse(value.Value);
        }
        catch (FqlSyntaxException ex)
        {
            errors.Add($"{at}: {ex.Message}{suffix}");
            return null;
        }
    }

    static SampleFilter? ReadSample(IConfigurationSection value, IConfigurationSection? by, int index, string at, string suffix, List<string> errors)
    {
        var ok = true;
        if (value.GetChildren().Any()
            || !double.TryParse(value.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var percent)
            || !double.IsFinite(percent) || percent < 0 || percent > 100)
        {
            errors.Add($"{at}.{value.Key}: must be a percentage from 0 to 100 (the share of events kept){suffix}");
            ok = false;
            percent = 0;
        }
        var sampleBy = SampleBy.MessageId;
        if (by is not null)
        {
            if (string.Equals(by.Value, "userId", StringComparison.OrdinalIgnoreCase)) sampleBy = SampleBy.UserId;
            else if (!string.Equals(by.Value, "messageId", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{at}.{by.Key}: must be userId or messageId{suffix}");
                ok = false;
            }
        }
        return ok ? new SampleFilter(index, percent, sampleBy) : null;
    }

    static IReadOnlyList<FieldPath>? Paths(IConfigurationSection value, string at, string suffix, List<string> errors)
    {
        if (value.Value is { Length: > 0 })
        {
            errors.Add($"{at}: must be a list of field paths, e.g. [\"properties.email\", \"context.ip\"]{suffix}");
            return null;
        }
        var items = value.GetChildren().ToList();
        if (items.Count == 0)
        {
            errors.Add($"{at}: is empty; list at least one field path{suffix}");
            return null;
        }
        var paths = new List<FieldPath>(items.Count);
        foreach (var item in items)
        {
            if (item.GetChildren().Any()) { errors.Add($"{at}[{item.Key}]: must be a field path (a string){suffix}"); continue; }
            if (FieldPath.TryParse(item.Value, out var error) is { } path) paths.Add(path);
            else errors.Add($"{at}[{item.Key}]: {error}{suffix}");
        }
        return paths.Count == items.Count ? paths : null;
    }
}
