using Destinations.Core.Delivery;

namespace Destinations.Salesmachine;

/// <summary>
/// One Salesmachine instance's <c>Settings</c> (docs/partners/salesmachine.md "Settings"). Built and validated by
/// <see cref="SalesmachineSettingsReader"/>; immutable so the mapping of an attempt sees one consistent set (D8).
/// </summary>
public sealed class SalesmachineSettings
{
    public const string DefaultBaseUrl = "https://api.salesmachine.io";

    /// <summary>HTTP Basic username. Secret: never logged, never in <see cref="ToString"/>.</summary>
    public required string ApiToken { get; init; }

    /// <summary>HTTP Basic password. Secret. Salesmachine accounts may have none, so an empty string is valid.</summary>
    public required string ApiSecret { get; init; }

    /// <summary>Absolute http(s) URL; overridable for tests and sandboxes.</summary>
    public Uri BaseUrl { get; init; } = new(DefaultBaseUrl);

    /// <summary>Salesmachine publishes no alias endpoint; alias calls go here only when set (D15). Starts with '/'.</summary>
    public string? AliasPath { get; init; }

    /// <summary>Absolute URL of a partner path; a trailing slash on <see cref="BaseUrl"/> (or a path prefix) is kept right.</summary>
    public Uri UrlFor(string path) =>
        PartnerCall.Url(BaseUrl, path);

    /// <summary>Shows the shape, never the secrets (SecretMasker).</summary>
    public override string ToString() =>
        $"SalesmachineSettings {{ ApiToken = {SecretMasker.Mask(ApiToken)}, ApiSecret = {SecretMasker.Mask(ApiSecret)}, " +
        $"BaseUrl = {BaseUrl}, AliasPath = {AliasPath ?? "(none)"} }}";
}
