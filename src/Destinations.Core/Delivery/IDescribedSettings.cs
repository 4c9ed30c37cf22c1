namespace Destinations.Core.Delivery;

/// <summary>An instance's settings for listings (admin API, dry-run): every secret masked with <see cref="SecretMasker"/>.</summary>
public interface IDescribedSettings
{
    IReadOnlyDictionary<string, string?> MaskedSettings { get; }
}
