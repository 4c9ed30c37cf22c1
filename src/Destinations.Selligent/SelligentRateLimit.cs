using System.Globalization;

namespace Destinations.Selligent;

/// <summary>
/// How long to wait after a 429 (docs/partners/selligent.md "Rate limit", D19): <c>Retry-After</c> when SMC sends one, else
/// <c>X-RateLimit-Reset</c> as seconds, else 60 s. Headers are parsed defensively: SMC's rate-limit headers are lists such
/// as <c>2500, 2500;w=60</c>, so the first number is taken and anything unparseable falls back.
/// </summary>
public static class SelligentRateLimit
{
    public static readonly TimeSpan Fallback = TimeSpan.FromSeconds(60);

    /// <summary>Caps a nonsense header (a timestamp where seconds were expected) at an hour, the queue's longest backoff (D13).</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromHours(1);

    public static TimeSpan Wait(TimeSpan? retryAfter, IEnumerable<string>? resetHeader)
    {
        if (retryAfter is { } ra) return ra;
        return Seconds(resetHeader) is { } s ? TimeSpan.FromSeconds(Math.Min(s, Longest.TotalSeconds)) : Fallback;
    }

    /// <summary>The first non-negative number in the header values, e.g. 42 from "42", "42, 42;w=60" or "42.5".</summary>
    public static double? Seconds(IEnumerable<string>? values)
    {
        if (values is null) return null;
        foreach (var value in values)
        {
            var first = value.Split([',', ';'], 2)[0].Trim();
            if (double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0 && double.IsFinite(s))
                return s;
        }
        return null;
    }
}
