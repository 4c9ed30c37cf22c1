using System.Net.Http.Headers;
using System.Text;
using Destinations.Core.Delivery;
using Polly.Timeout;

namespace Destinations.UserMotion;

/// <summary>
/// Typed HttpClient for UserMotion. Adds the headers Segment's <c>extendRequest</c> sends — <c>Authorization: Basic {apiKey}</c>
/// (the raw key, not base64), <c>x-source: Segment</c>, <c>Content-Type: application/json</c> — per instance, so plans and
/// dry-runs hold no secret. Never throws for HTTP or network trouble; classifies with <see cref="ResponseClassifier"/> (D12).
/// </summary>
public sealed class UserMotionClient(HttpClient http, TimeProvider clock)
{
    public Task<AttemptResult> SendAsync(PartnerRequest request, UserMotionSettings settings, CancellationToken ct) =>
        SendAsync(new HttpMethod(request.Method), settings.UrlFor(request.Path), request.Body?.ToJsonString(), settings, ct);

    /// <summary>Credential check: <c>POST /v1/verify</c> without a body; any non-2xx means the key is not valid (docs/partners/usermotion.md "API").</summary>
    public Task<AttemptResult> VerifyAsync(UserMotionSettings settings, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, settings.UrlFor(UserMotionApi.VerifyPath), null, settings, ct);

    async Task<AttemptResult> SendAsync(HttpMethod method, Uri url, string? json, UserMotionSettings settings, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(method, url);
        // Segment sends Content-Type on every call, the body-less verify included; an empty content carries the header.
        message.Content = new ByteArrayContent(json is null ? [] : Encoding.UTF8.GetBytes(json));
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        // Without validation: the key is sent exactly as configured, as Segment does ("Basic " + apiKey).
        message.Headers.TryAddWithoutValidation("Authorization", "Basic " + settings.ApiKey);
        message.Headers.TryAddWithoutValidation("x-source", "Segment");
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            return await ResponseClassifier.FromResponseAsync(response, clock, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw; // the caller is stopping (shutdown, lease lost): not the partner's fault, nothing to classify
        }
        catch (TimeoutRejectedException)
        {
            return ResponseClassifier.FromException(new TimeoutException()); // the per-attempt timeout (D13 in docs/decisions.md)
        }
        catch (Exception ex)
        {
            return ResponseClassifier.FromException(ex);
        }
    }
}
