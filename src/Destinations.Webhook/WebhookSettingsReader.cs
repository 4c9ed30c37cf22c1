using Microsoft.Extensions.Configuration;

namespace Destinations.Webhook;

/// <summary>
/// Reads and validates an instance's <c>Settings</c>. Errors name the key path and the rule; none echoes a secret or a
/// secret-bearing value (D22).
/// </summary>
public static class WebhookSettingsReader
{
    static readonly string[] Known = ["SharedSecret", "AllowedHosts", "AllowPrivateNetworks", "AllowHttp", "Secrets", "TestConnection"];

    public sealed record Result(WebhookSettings? Settings, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings);

    public static Result Read(IConfigurationSection settings, string keyPath)
    {
        var errors = new List<string>();
        var warnings = new List<string>();
        var at = $"{keyPath}.Settings";

        var sharedSecret = settings["SharedSecret"];
        if (string.IsNullOrEmpty(sharedSecret)) sharedSecret = null;

        // A list in JSON, or one comma-separated value (handy in an environment variable).
        var hostsSection = settings.GetSection("AllowedHosts");
        var hostEntries = hostsSection.Value is { } single
            ? single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList()
            : hostsSection.GetChildren().Select(c => c.Value).OfType<string>().Where(v => v.Trim().Length > 0).ToList();
        var (hosts, hostErrors) = AllowedHosts.Parse(hostEntries, $"{at}.AllowedHosts");
        errors.AddRange(hostErrors);

        var allowPrivate = Flag(settings, "AllowPrivateNetworks", at, errors);
        var allowHttp = Flag(settings, "AllowHttp", at, errors);

        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var child in settings.GetSection("Secrets").GetChildren())
        {
            if (!WebhookSecrets.IsName(child.Key))
                errors.Add($"{at}.Secrets.{child.Key}: a secret's name uses letters, digits, '_' and '-' only");
            else if (string.IsNullOrEmpty(child.Value))
                errors.Add($"{at}.Secrets.{child.Key}: is empty");
            else if (child.Value.Any(char.IsControl))
                errors.Add($"{at}.Secrets.{child.Key}: must not contain control characters (it may be sent in a header)");
            else secrets[child.Key] = child.Value;
        }

        WebhookTestConnection? test = null;
        var testSection = settings.GetSection("TestConnection");
        if (testSection.Exists())
        {
            var method = (testSection["Method"] ?? "GET").Trim().ToUpperInvariant();
            var url = testSection["Url"];
            if (method is not ("GET" or "HEAD" or "POST" or "PUT" or "PATCH" or "OPTIONS"))
                errors.Add($"{at}.TestConnection.Method: must be GET, HEAD, POST, PUT, PATCH or OPTIONS");
            if (string.IsNullOrWhiteSpace(url)) errors.Add($"{at}.TestConnection.Url: is required when TestConnection is set");
            else
            {
                foreach (var name in WebhookSecrets.Names(url).Where(n => !secrets.ContainsKey(n)))
                    errors.Add($"{at}.TestConnection.Url: uses {{{{secrets.{name}}}}}, which Settings.Secrets does not define");
                test = new WebhookTestConnection(method, url.Trim());
            }
        }

        foreach (var child in settings.GetChildren())
            if (!Known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                warnings.Add($"{at}.{child.Key}: unknown setting, ignored (known: {string.Join(", ", Known)})");

        if (errors.Count > 0) return new Result(null, errors, warnings);
        var read = new WebhookSettings
        {
            SharedSecret = sharedSecret,
            AllowedHosts = hosts!,
            AllowPrivateNetworks = allowPrivate,
            AllowHttp = allowHttp,
            Secrets = secrets,
            TestConnection = test,
        };
        if (test is not null && WebhookUrls.Check(WebhookSecrets.Substitute(test.Url, secrets), read) is { } problem)
            return new Result(null, [$"{at}.TestConnection.Url: {problem}"], warnings);
        return new Result(read, [], warnings);
    }

    static bool Flag(IConfigurationSection settings, string key, string at, List<string> errors)
    {
        var raw = settings[key];
        if (string.IsNullOrWhiteSpace(raw)) return false;
        if (bool.TryParse(raw, out var value)) return value;
        errors.Add($"{at}.{key}: must be true or false");
        return false;
    }
}
