using Microsoft.Extensions.Options;

namespace Destinations.Storage;

/// <summary>The <c>Storage:Retention</c> section (D17): how long finished rows and counters are kept.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Storage:Retention";

    public TimeSpan Delivered { get; set; } = TimeSpan.FromDays(7);
    /// <summary>Dead letters; also mapper-time filtered and invalid rows, which are counted with the filter counters.</summary>
    public TimeSpan Dead { get; set; } = TimeSpan.FromDays(30);
    /// <summary>Router-time filter counters and duplicate counters.</summary>
    public TimeSpan Counters { get; set; } = TimeSpan.FromDays(30);
    /// <summary>The console's audit log entries.</summary>
    public TimeSpan Audit { get; set; } = TimeSpan.FromDays(90);
    /// <summary>How long a Data Protection key (console cookies, antiforgery tokens) is kept after its expiration date. Once
    /// expired a key protects nothing new, and a console cookie it protected is refused after the absolute session limit
    /// (Console:AbsoluteTimeout, 24 h by default, which must stay below this); the rest is slack for replicas' clocks.</summary>
    public TimeSpan ExpiredKeys { get; set; } = TimeSpan.FromDays(7);
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>Rows deleted per statement, so a purge never holds the write lock for long (group commit waits on it).</summary>
    public int PurgeBatchSize { get; set; } = 500;
}

public sealed class RetentionOptionsValidator : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions o)
    {
        var errors = new List<string>();
        foreach (var (key, value) in new[] { ("Delivered", o.Delivered), ("Dead", o.Dead), ("Counters", o.Counters), ("Audit", o.Audit),
                     ("ExpiredKeys", o.ExpiredKeys), ("PurgeInterval", o.PurgeInterval) })
            if (value <= TimeSpan.Zero) errors.Add($"{RetentionOptions.Section}:{key}: must be positive (was {value})");
        if (o.PurgeBatchSize <= 0) errors.Add($"{RetentionOptions.Section}:PurgeBatchSize: must be positive (was {o.PurgeBatchSize})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
