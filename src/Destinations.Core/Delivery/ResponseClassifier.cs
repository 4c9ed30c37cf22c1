using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Destinations.Core.Delivery;

/// <summary>Turns a partner's answer (or the lack of one) into an <see cref="AttemptResult"/> (docs/ingress.md "Delivery downstream", D12).</summary>
public static class ResponseClassifier
{
    /// <summary>How much of a partner's body is kept with a failed attempt.</summary>
    public const int ExcerptLength = 1024;

    public static AttemptOutcome Classify(int status) => status switch
    {
        >= 200 and < 300 => AttemptOutcome.Succeeded,
        408 or 423 or 429 => AttemptOutcome.Retry,
        401 or 403 => AttemptOutcome.AuthFailure,
        501 => AttemptOutcome.Final,
        >= 500 => AttemptOutcome.Retry,
        _ => AttemptOutcome.Final,
    };

    public static async Task<AttemptResult> FromResponseAsync(HttpResponseMessage response, TimeProvider clock, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        var outcome = Classify(status);
        string? excerpt = null;
        if (outcome != AttemptOutcome.Succeeded)
            excerpt = await ReadExcerptAsync(response, ct).ConfigureAwait(false);
        return new AttemptResult(outcome, status, excerpt, RetryAfter(response, clock), outcome == AttemptOutcome.Succeeded ? null : $"HTTP {status}");
    }

    /// <summary>Exceptions from sending: timeouts and connection errors are retried; anything else too, since no answer came.</summary>
    public static AttemptResult FromException(Exception ex) => ex switch
    {
        TimeoutException or TaskCanceledException or OperationCanceledException
            => new(AttemptOutcome.Retry, null, null, null, "timeout: the partner did not answer in time"),
        HttpRequestException { InnerException: SocketException se }
            => new(AttemptOutcome.Retry, null, null, null, $"connection error: {se.SocketErrorCode}"),
        HttpRequestException hre
            => new(AttemptOutcome.Retry, null, null, null, $"connection error: {hre.HttpRequestError}"),
        _ => new(AttemptOutcome.Retry, null, null, null, $"{ex.GetType().Name}: {ex.Message}"),
    };

    /// <summary><c>Retry-After</c> as delta-seconds or an HTTP date; null when absent or unparseable.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider clock)
    {
        var ra = response.Headers.RetryAfter;
        if (ra is null) return null;
        if (ra.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (ra.Date is { } date)
        {
            var d = date - clock.GetUtcNow();
            return d < TimeSpan.Zero ? TimeSpan.Zero : d;
        }
        return null;
    }

    static async Task<string?> ReadExcerptAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            if (bytes.Length == 0) return null;
            var text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, ExcerptLength * 4));
            return text.Length > ExcerptLength ? text[..ExcerptLength] : text;
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            return null;
        }
    }

    public static bool IsSuccess(HttpStatusCode code) => Classify((int)code) == AttemptOutcome.Succeeded;
}
