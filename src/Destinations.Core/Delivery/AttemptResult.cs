namespace Destinations.Core.Delivery;

public enum AttemptOutcome
{
    Succeeded,
    /// <summary>408, 423, 429, 5xx except 501, timeouts, connection errors: try again later (D12).</summary>
    Retry,
    /// <summary>401/403: a credentials problem; the instance is paused, or until pausing exists, retried with backoff (D12).</summary>
    AuthFailure,
    /// <summary>Any other 4xx (and 501): final, dead-lettered with the partner's answer kept (D12).</summary>
    Final,
}

/// <summary>The classified result of one partner call.</summary>
/// <param name="RetryAfter">The partner's <c>Retry-After</c>, when it sent one (seconds or HTTP date, resolved to a delay).</param>
/// <param name="Error">What went wrong when no HTTP answer came (timeout, connection refused), or a short description.</param>
public sealed record AttemptResult(
    AttemptOutcome Outcome,
    int? StatusCode,
    string? ResponseExcerpt,
    TimeSpan? RetryAfter,
    string? Error)
{
    public bool IsSuccess => Outcome == AttemptOutcome.Succeeded;
}
