using Microsoft.Extensions.Configuration;

namespace Destinations.UserMotion;

/// <summary>
/// Reads and validates an instance's <c>Settings</c>. Errors name the key path and the rule; none echoes the key or the
/// BaseUrl value (a URL may carry credentials, D22).
/// </summary>
public static class UserMotionSettingsReader
{
    static readonly string[] Known = ["ApiKey", "BaseUrl"];

    public sealed record Result(UserMotionSettings? Settings, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings);

    public static Result Read(IConfigurationSection settings, string keyPath)
    {
        var errors = new List<string>();
        var warnings = new List<string>();
        var at = $"{keyPath}.Settings";

        var apiKey = settings["ApiKey"];
        if (string.IsNullOrWhiteSpace(apiKey)) errors.Add($"{at}.ApiKey: is required");
        else if (apiKey.Any(char.IsControl)) errors.Add($"{at}.ApiKey: must not contain control characters (it is sent in a header)");

        var baseUrl = new Uri(UserMotionSettings.DefaultBaseUrl);
        var raw = settings["BaseUrl"];
        if (!string.IsNullOrWhiteSpace(raw))
        {
            if (!Uri.TryCreate(raw.Trim(), UriKind.Absolute, out var parsed)
                || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps))
                errors.Add($"{at}.BaseUrl: must be an absolute http(s) URL such as {UserMotionSettings.DefaultBaseUrl}");
            else if (parsed.UserInfo.Length > 0)
                errors.Add($"{at}.BaseUrl: must not contain credentials; set ApiKey instead");
            else
                baseUrl = parsed;
        }

        foreach (var child in settings.GetChildren())
            if (!Known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                warnings.Add($"{at}.{child.Key}: unknown setting, ignored (known: {string.Join(", ", Known)})");

        return errors.Count > 0
            ? new Result(null, errors, warnings)
            : new Result(new UserMotionSettings { ApiKey = apiKey!, BaseUrl = baseUrl }, [], warnings);
    }
}
