namespace Destinations.Core.Delivery;

/// <summary>How a secret is shown where one must be mentioned at all (settings listings, dry-run): never its value.</summary>
public static class SecretMasker
{
    public static string Mask(string? secret) => string.IsNullOrEmpty(secret) ? "" : "********";
}
