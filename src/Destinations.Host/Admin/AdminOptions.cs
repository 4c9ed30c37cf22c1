namespace Destinations.Host.Admin;

/// <summary>Section <c>Admin</c>. Without an <see cref="ApiKey"/> the admin endpoints and the dry-run answer 404 (D21: off, never open).</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>The bearer token of <c>/admin/*</c> and <c>/v1/dry-run</c> (secret; never logged).</summary>
    public string? ApiKey { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(ApiKey);
}
