using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Polly.Timeout;

namespace Destinations.Selligent;

/// <summary>
/// Typed HttpClient for SMC's REST API. Adds <c>X-ApiKey: key:secret</c> per instance (so plans and dry-runs hold no
/// secret), serialises loads per list (<see cref="SelligentListLocks"/>), sends, and classifies the answer (D12), including a
/// 200's <c>result_code</c> (<see cref="SelligentLoadResult"/>). Never throws for HTTP or network trouble. Its resilience
/// pipeline (per-attempt timeout, retry of unsent requests only, D14) is set up in <see cref="SelligentServiceCollectionExtensions"/>.
/// </summary>
public sealed class SelligentClient(HttpClient http, TimeProvider clock, SelligentListLocks locks)
{
    public const string ApiKeyHeader = "X-ApiKey";
    static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");

    /// <summary>One <c>data/load</c> of <paramref name="rows"/> ({column: value} objects); one result per row, in order.</summary>
    public async Task<IReadOnlyList<AttemptResult>> LoadRowsAsync(
        string path, IReadOnlyList<JsonObject> rows, SelligentSettings settings, CancellationToken ct)
    {
        var url = settings.UrlFor(path);
        using (await locks.AcquireAsync(LockKey(url), ct).ConfigureAwait(false))
        {
            var answer = await ExchangeAsync(HttpMethod.Post, url, SelligentLoadBody.Build(rows), settings, ct).ConfigureAwait(false);
            return answer.Failure is { } failure
                ? Enumerable.Repeat(failure, rows.Count).ToArray()
                : SelligentLoadResult.ForRows(answer.Status, answer.Body, rows.Count);
        }
    }

    /// <summary>A static segment add (POST …/data/load) or remove (DELETE …/data) as the mapper planned it.</summary>
    public async Task<AttemptResult> SegmentAsync(PartnerRequest request, SelligentSettings settings, CancellationToken ct)
    {
        var url = settings.UrlFor(request.Path);
        using (await locks.AcquireAsync(LockKey(url), ct).ConfigureAwait(false))
        {
            var answer = await ExchangeAsync(new HttpMethod(request.Method), url, request.Body, settings, ct).ConfigureAwait(false);
            if (answer.Failure is { } failure) return failure;
            var header = (request.Body as JsonArray)?[0] as JsonArray;
            var matchKey = header?[0]?.ToString() ?? "?";
            return SelligentLoadResult.ForSegment(answer.Status, answer.Body, UserListOf(request.Path), matchKey);
        }
    }

    /// <summary>A GET whose HTTP status is the result (status check, D12); the body is returned for the caller to read.</summary>
    public async Task<(AttemptResult Result, string? Body)> GetAsync(string path, SelligentSettings settings, CancellationToken ct)
    {
        var answer = await ExchangeAsync(HttpMethod.Get, settings.UrlFor(path), null, settings, ct).ConfigureAwait(false);
        return (answer.Failure ?? new AttemptResult(AttemptOutcome.Succeeded, answer.Status, null, null, null), answer.Body);
    }

    /// <summary>The lock key: the list (or segment) URL without the <c>/data…</c> tail and query, so add and remove share it.</summary>
    internal static string LockKey(Uri url)
    {
        var path = url.GetLeftPart(UriPartial.Path);
        var data = path.LastIndexOf("/data", StringComparison.Ordinal);
        return data > 0 ? path[..data] : path;
    }

    static string UserListOf(string path)
    {
        var parts = path.Split('?')[0].Split('/');
        var i = Array.IndexOf(parts, "lists");
        return i >= 0 && i + 1 < parts.Length ? Uri.UnescapeDataString(parts[i + 1]) : "?";
    }

    readonly record struct Answer(AttemptResult? Failure, int Status, string? Body);

    async Task<Answer> ExchangeAsync(HttpMethod method, Uri url, JsonNode? body, SelligentSettings settings, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            // Built from bytes so the header is exactly "application/json" (StringContent would add "; charset=utf-8").
            message.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString()));
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        message.Headers.TryAddWithoutValidation(ApiKeyHeader, settings.ApiKeyHeader);
        message.Headers.Accept.Add(Json);
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (ResponseClassifier.IsSuccess(response.StatusCode))
                return new Answer(null, status, await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
            var failure = await ResponseClassifier.FromResponseAsync(response, clock, ct).ConfigureAwait(false);
            if (status == 429)
            {
                // D19: SMC says when its per-minute quota resets in X-RateLimit-Reset (seconds), not in Retry-After.
                response.Headers.TryGetValues("X-RateLimit-Reset", out var reset);
                failure = failure with { RetryAfter = SelligentRateLimit.Wait(failure.RetryAfter, reset) };
            }
            return new Answer(failure, status, null);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw; // the caller is stopping (shutdown, lease lost): not the partner's fault, nothing to classify
        }
        catch (TimeoutRejectedException)
        {
            // The pipeline's per-attempt timeout (D13) fired; classify it as the timeout it is.
            return new Answer(ResponseClassifier.FromException(new TimeoutException()), 0, null);
        }
        catch (Exception ex)
        {
            return new Answer(ResponseClassifier.FromException(ex), 0, null);
        }
    }
}
