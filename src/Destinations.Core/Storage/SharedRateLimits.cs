namespace Destinations.Core.Storage;

/// <summary>A destination instance's limit as the claim applies it (D25).</summary>
/// <param name="ItemsPerCall">Rows one token covers (a batching partner sends up to this many per call, D15).</param>
/// <param name="ThrottledRateFactor">The rate is multiplied by this while a 429 lowered it.</param>
public sealed record SharedRateLimit(int Limit, TimeSpan Period, int ItemsPerCall, double ThrottledRateFactor);

/// <summary>A store whose claim takes rate-limit tokens from rows shared by every replica (PostgreSQL, D25).</summary>
public interface ISharedRateLimits
{
    /// <summary>The partner answered 429: the shared rate is lowered until <paramref name="throttledUntil"/>, and nothing goes
    /// before <paramref name="blockedUntil"/> (Retry-After).</summary>
    Task ThrottleAsync(string destinationId, DateTimeOffset throttledUntil, DateTimeOffset? blockedUntil, CancellationToken ct);
}
