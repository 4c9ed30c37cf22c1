using Microsoft.Extensions.Options;

namespace Destinations.Storage.Delivery;

/// <summary>The <c>Delivery</c> configuration section. Defaults are D13's; every delay is configurable so tests compress hours.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    public int Workers { get; set; } = 4;
    public int ClaimBatchSize { get; set; } = 64;
    /// <summary>How often an idle worker looks for due retries; new events wake it at once (DispatchSignal).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromHours(1);
    /// <summary>D13: give up when older than this *and* attempted at least <see cref="MinAttempts"/> times.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(4);
    public int MinAttempts { get; set; } = 3;
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
        Positive(nameof(o.BaseDelay), o.BaseDelay.Ticks, o.BaseDelay);
        Positive(nameof(o.MaxDelay), o.MaxDelay.Ticks, o.MaxDelay);
        Positive(nameof(o.MaxAge), o.MaxAge.Ticks, o.MaxAge);
        Positive(nameof(o.MinAttempts), o.MinAttempts, o.MinAttempts);
        if (o.MaxDelay < o.BaseDelay)
            errors.Add($"Delivery:MaxDelay: must be at least Delivery:BaseDelay (was {o.MaxDelay} < {o.BaseDelay})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
