using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;

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
            return !answer.Result.IsSuccess
                ? Enumerable.Repeat(answer.Result, rows.Count).ToArray()
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
            if (!answer.Result.IsSuccess) return answer.Result;
            var header = (request.Body as JsonArray)?[0] as JsonArray;
            var matchKey = header?[0]?.ToString() ?? "?";
            return SelligentLoadResult.ForSegment(answer.Status, answer.Body, UserListOf(request.Path), matchKey);
        }
    }

    /// <summary>A GET whose HTTP status is the result (status check, D12); the body is returned for the caller to read.</summary>
    public async Task<(AttemptResult Result, string? Body)> GetAsync(string path, SelligentSettings settings, CancellationToken ct)
    {
        var answer = await ExchangeAsync(HttpMethod.Get, settings.UrlFor(path), null, settings, ct).ConfigureAwait(false);
        return (answer.Result, answer.Body);
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

    async Task<PartnerAnswer> ExchangeAsync(HttpMethod method, Uri url, JsonNode? body, SelligentSettings settings, CancellationToken ct)
    {
        var message = new HttpRequestMessage(method, url);
        if (body is not null) message.Content = PartnerCall.JsonContent(body);
        message.Headers.TryAddWithoutValidation(ApiKeyHeader, settings.ApiKeyHeader);
        message.Headers.Accept.Add(Json);
        return await PartnerCall.SendAsync(http, message, clock, ct, readBody: true, onFailure: QuotaReset).ConfigureAwait(false);
    }

    /// <summary>D19: SMC says when its per-minute quota resets in X-RateLimit-Reset (seconds), not in Retry-After.</summary>
    static AttemptResult QuotaReset(HttpResponseMessage response, AttemptResult failure)
    {
        if (failure.StatusCode != 429) return failure;
        response.Headers.TryGetValues("X-RateLimit-Reset", out var reset);
        return failure with { RetryAfter = SelligentRateLimit.Wait(failure.RetryAfter, reset) };
    }
}
