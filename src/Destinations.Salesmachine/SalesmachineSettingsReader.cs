using Microsoft.Extensions.Configuration;

namespace Destinations.Salesmachine;

/// <summary>
/// Reads and validates an instance's <c>Settings</c> section. Every error names its key path and the rule
/// ("Destinations[0].Settings.ApiToken: is required"); no message ever echoes a secret (D22) or the BaseUrl value
/// (a URL may carry credentials in its user-info part).
/// </summary>
public static class SalesmachineSettingsReader
{
    static readonly string[] Known = ["ApiToken", "ApiSecret", "BaseUrl", "AliasPath"];

    public sealed record Result(SalesmachineSettings? Settings, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings);

    /// <param name="settings">The instance's <c>Settings</c> section.</param>
    /// <param name="keyPath">Where the instance sits in configuration, e.g. <c>Destinations[0]</c>.</param>
    public static Result Read(IConfigurationSection settings, string keyPath)
    {
        var errors = new List<string>();
        var warnings = new List<string>();
        var at = $"{keyPath}.Settings";

        var token = settings["ApiToken"];
        if (string.IsNullOrWhiteSpace(token)) errors.Add($"{at}.ApiToken: is required");

        // Read by key rather than by binding: "missing" (null) and "empty" ("") must stay distinguishable, because an
        // empty secret is a legitimate Salesmachine setting while a forgotten one is a configuration mistake.
        var secret = settings["ApiSecret"];
        if (secret is null) errors.Add($"{at}.ApiSecret: is required (use an empty string when the account has no API secret)");

        var baseUrl = new Uri(SalesmachineSettings.DefaultBaseUrl);
        var rawBaseUrl = settings["BaseUrl"];
        if (!string.IsNullOrWhiteSpace(rawBaseUrl))
        {
            if (!Uri.TryCreate(rawBaseUrl.Trim(), UriKind.Absolute, out var parsed)
                || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps))
                errors.Add($"{at}.BaseUrl: must be an absolute http(s) URL such as {SalesmachineSettings.DefaultBaseUrl}");
            else if (parsed.UserInfo.Length > 0)
                errors.Add($"{at}.BaseUrl: must not contain credentials; set ApiToken and ApiSecret instead");
            else
                baseUrl = parsed;
        }

        var aliasPath = settings["AliasPath"];
        if (string.IsNullOrWhiteSpace(aliasPath)) aliasPath = null;
        else if (!aliasPath.StartsWith('/') || aliasPath.StartsWith("//", StringComparison.Ordinal))
            errors.Add($"{at}.AliasPath: must be a path starting with a single '/', e.g. /v1/alias");

        foreach (var child in settings.GetChildren())
            if (!Known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                warnings.Add($"{at}.{child.Key}: unknown setting, ignored (known: {string.Join(", ", Known)})");

        if (errors.Count > 0) return new Result(null, errors, warnings);
        return new Result(new SalesmachineSettings
        {
            ApiToken = token!,
            ApiSecret = secret!,
            BaseUrl = baseUrl,
            AliasPath = aliasPath,
        }, [], warnings);
    }
}
