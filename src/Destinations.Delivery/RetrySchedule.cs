using Destinations.Core.Delivery;

namespace Destinations.Delivery;

/// <summary>Randomness for backoff jitter; a fixed value in tests.</summary>
public sealed class RetryJitter(Func<double> nextDouble)
{
    public static RetryJitter Shared { get; } = new(Random.Shared.NextDouble);

    /// <summary>A value in [0, 1).</summary>
    public double Next() => nextDouble();
}

/// <summary>When to try again after a failed attempt, and when to give up (D12, D13).</summary>
public sealed class RetrySchedule(DeliveryOptions options, RetryJitter jitter)
{
    /// <summary>
    /// Exponential backoff with full jitter: random(0, min(MaxDelay, BaseDelay * 2^(attempts-1))) — spreading retries of
    /// many deliveries that failed together — but never sooner than the partner's <c>Retry-After</c>.
    /// </summary>
    public TimeSpan DelayAfter(int attempts, TimeSpan? retryAfter)
    {
        var ceilingMs = Math.Min(options.MaxDelay.TotalMilliseconds,
            options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempts - 1)));
        var delay = TimeSpan.FromMilliseconds(Math.Floor(jitter.Next() * ceilingMs));
        return retryAfter is { } ra && ra > delay ? ra : delay;
    }

    /// <summary>
    /// D13: give up only when the delivery is older than MaxAge AND has had at least MinAttempts; checked after a failed
    /// attempt, so a Retry-After landing past the deadline still gets its one more attempt (the check follows that attempt).
    /// </summary>
    public bool ShouldGiveUp(DateTimeOffset createdAt, int attemptsIncludingThisOne, DateTimeOffset now) =>
        now - createdAt > options.MaxAge && attemptsIncludingThisOne >= options.MinAttempts;

    /// <summary>D12: 408, 423, 429, 5xx except 501, timeouts and connection errors (401/403 pause the instance instead).</summary>
    public static bool IsRetryable(AttemptOutcome outcome) => outcome is AttemptOutcome.Retry;
}
