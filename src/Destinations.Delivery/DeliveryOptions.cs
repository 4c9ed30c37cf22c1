using Microsoft.Extensions.Options;

namespace Destinations.Delivery;

/// <summary>The <c>Delivery</c> configuration section. Defaults are D13's; every delay is configurable so tests compress hours.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    public int Workers { get; set; } = 4;
    public int ClaimBatchSize { get; set; } = 256;
    /// <summary>How often an idle worker looks for due retries; new events wake it at once (DispatchSignal).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>After a claim that was not full (or a wake-up by a commit), a worker waits this long before it claims, so the
    /// events of several group commits share one claim, one partner call and one settle commit (each costs CPU whatever it
    /// carries). It adds at most this much to the time from acknowledgement to delivery; zero claims at once.</summary>
    public TimeSpan ClaimLinger { get; set; } = TimeSpan.FromMilliseconds(10);
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromHours(1);
    /// <summary>D13: give up when older than this *and* attempted at least <see cref="MinAttempts"/> times.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(4);
    public int MinAttempts { get; set; } = 3;

    /// <summary>D12: deliveries held by a paused instance (or an open breaker) longer than this become dead letters.</summary>
    public TimeSpan PausedMaxAge { get; set; } = TimeSpan.FromHours(72);
    /// <summary>D12: the first canary of a held instance goes after this; each failed canary doubles it.</summary>
    public TimeSpan ProbeBaseDelay { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan ProbeMaxDelay { get; set; } = TimeSpan.FromMinutes(30);
    /// <summary>Circuit breaker: this many retryable failures in a row (5xx, timeouts, connection errors; not 429) open it;
    /// 0 turns the breaker off.</summary>
    public int BreakerThreshold { get; set; } = 5;
    /// <summary>The failures in a row must start within this window to count together.</summary>
    public TimeSpan BreakerWindow { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>How often expired holds are dead-lettered (D12 PausedMaxAge).</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>D16: instance ids that keep per-user order (userId, else anonymousId).</summary>
    public List<string> OrderedDestinations { get; set; } = [];

    /// <summary>D25: per-instance limits, keyed by instance id; they override <see cref="RateLimitDefaults"/>.</summary>
    public Dictionary<string, RateLimit> RateLimits { get; set; } = new(StringComparer.Ordinal);
    /// <summary>D25: per-type defaults, keyed by destination type (the configuration <c>Type</c>); they override the limit
    /// the partner declares (<c>IDestinationFactory.DefaultRateLimit</c>).</summary>
    public Dictionary<string, RateLimit> RateLimitDefaults { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>D25: after a 429 the rate is multiplied by <see cref="ThrottledRateFactor"/> for this long.</summary>
    public TimeSpan ThrottledFor { get; set; } = TimeSpan.FromMinutes(5);
    public double ThrottledRateFactor { get; set; } = 0.5;
}

/// <summary>At most <see cref="Limit"/> partner calls per <see cref="Period"/>; <c>Limit: 0</c> = no limit.</summary>
public sealed class RateLimit
{
    public int Limit { get; set; }
    public TimeSpan Period { get; set; } = TimeSpan.FromMinutes(1);
}

public sealed class DeliveryOptionsValidator : IValidateOptions<DeliveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryOptions o)
    {
        var errors = new List<string>();
        void Positive(string key, double value, object shown)
        {
            if (value <= 0) errors.Add($"Delivery:{key}: must be positive (was {shown})");
        }
        Positive(nameof(o.Workers), o.Workers, o.Workers);
        Positive(nameof(o.ClaimBatchSize), o.ClaimBatchSize, o.ClaimBatchSize);
        Positive(nameof(o.PollInterval), o.PollInterval.Ticks, o.PollInterval);
        Positive(nameof(o.Lease), o.Lease.Ticks, o.Lease);
        if (o.ClaimLinger < TimeSpan.Zero || o.ClaimLinger > TimeSpan.FromSeconds(1))
            errors.Add($"Delivery:ClaimLinger: must be between 0 and 1 s (was {o.ClaimLinger})");
        Positive(nameof(o.BaseDelay), o.BaseDelay.Ticks, o.BaseDelay);
        Positive(nameof(o.MaxDelay), o.MaxDelay.Ticks, o.MaxDelay);
        Positive(nameof(o.MaxAge), o.MaxAge.Ticks, o.MaxAge);
        Positive(nameof(o.MinAttempts), o.MinAttempts, o.MinAttempts);
        Positive(nameof(o.PausedMaxAge), o.PausedMaxAge.Ticks, o.PausedMaxAge);
        Positive(nameof(o.ProbeBaseDelay), o.ProbeBaseDelay.Ticks, o.ProbeBaseDelay);
        Positive(nameof(o.ProbeMaxDelay), o.ProbeMaxDelay.Ticks, o.ProbeMaxDelay);
        Positive(nameof(o.BreakerWindow), o.BreakerWindow.Ticks, o.BreakerWindow);
        Positive(nameof(o.MaintenanceInterval), o.MaintenanceInterval.Ticks, o.MaintenanceInterval);
        Positive(nameof(o.ThrottledFor), o.ThrottledFor.Ticks, o.ThrottledFor);
        if (o.BreakerThreshold < 0) errors.Add($"Delivery:BreakerThreshold: may not be negative (was {o.BreakerThreshold})");
        if (o.ThrottledRateFactor is <= 0 or > 1) errors.Add($"Delivery:ThrottledRateFactor: must be in (0, 1] (was {o.ThrottledRateFactor})");
        foreach (var (section, map) in new[] { ("RateLimits", o.RateLimits), ("RateLimitDefaults", o.RateLimitDefaults) })
            foreach (var (key, limit) in map)
            {
                if (limit.Limit < 0) errors.Add($"Delivery:{section}:{key}:Limit: may not be negative (was {limit.Limit})");
                if (limit.Limit > 0 && limit.Period <= TimeSpan.Zero) errors.Add($"Delivery:{section}:{key}:Period: must be positive (was {limit.Period})");
            }
        if (o.MaxDelay < o.BaseDelay)
            errors.Add($"Delivery:MaxDelay: must be at least Delivery:BaseDelay (was {o.MaxDelay} < {o.BaseDelay})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
