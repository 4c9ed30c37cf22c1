namespace Destinations.Core.Delivery;

/// <summary>A partner's documented request limit: at most <paramref name="Limit"/> calls per <paramref name="Period"/> per
/// destination instance (D25). The default of its destination type; configuration may override or turn it off.</summary>
public sealed record PartnerRateLimit(int Limit, TimeSpan Period);
