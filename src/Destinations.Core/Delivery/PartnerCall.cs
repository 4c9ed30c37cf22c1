using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Polly.Timeout;

namespace Destinations.Core.Delivery;

/// <summary>
/// The partner kit: what every partner client does around one HTTP call — build the URL, put a JSON body on it, send it,
/// read the status and an excerpt of a failed answer, and classify it into an <see cref="AttemptResult"/> with the
/// partner's <c>Retry-After</c> (D12). A client adds only its partner's headers and its reading of a successful answer.
/// </summary>
public static class PartnerCall
{
    /// <summary>The base URL's scheme, host and path (query and fragment dropped) joined with <paramref name="path"/> by one slash.</summary>
    public static Uri Url(Uri baseUrl, string path) =>
        new(baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + path.TrimStart('/'));

    /// <summary>A JSON body whose header is exactly <c>application/json</c> (StringContent would add <c>; charset=utf-8</c>).
    /// Null gives an empty body that still carries the header.</summary>
    public static ByteArrayContent JsonContent(string? json)
    {
        var content = new ByteArrayContent(json is null ? [] : Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public static ByteArrayContent JsonContent(JsonNode body) => JsonContent(body.ToJsonString());

    /// <summary>
    /// Sends <paramref name="message"/> (and disposes it) and classifies the answer. Never throws for HTTP or network trouble:
    /// a timeout of the client's pipeline is a timeout, any other failure to get an answer a connection error. Only the
    /// caller's own cancellation (shutdown, lease lost) is thrown: it is not the partner's fault and there is nothing to classify.
    /// </summary>
    /// <param name="readBody">Also read the body of a successful answer (for partners that report per item in it).</param>
    /// <param name="onFailure">Adjusts the classification of a failed answer from its headers (e.g. a partner's own rate-limit header).</param>
    public static async Task<PartnerAnswer> SendAsync(HttpClient http, HttpRequestMessage message, TimeProvider clock, CancellationToken ct,
        bool readBody = false, Func<HttpResponseMessage, AttemptResult, AttemptResult>? onFailure = null)
    {
        using (message)
        {
            try
            {
                using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
                var result = await ResponseClassifier.FromResponseAsync(response, clock, ct).ConfigureAwait(false);
                if (!result.IsSuccess) return new PartnerAnswer(onFailure is null ? result : onFailure(response, result), null);
                return new PartnerAnswer(result, readBody ? await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false) : null);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (TimeoutRejectedException)
            {
                // The pipeline's per-attempt timeout (D13) fired; classify it as the timeout it is.
                return new PartnerAnswer(ResponseClassifier.FromException(new TimeoutException()), null);
            }
            catch (Exception ex)
            {
                return new PartnerAnswer(ResponseClassifier.FromException(ex), null);
            }
        }
    }
}

/// <summary>One partner call's classified result, and the body of a successful answer when it was asked for.</summary>
public sealed record PartnerAnswer(AttemptResult Result, string? Body)
{
    /// <summary>The HTTP status, 0 when no answer came.</summary>
    public int Status => Result.StatusCode ?? 0;
}
