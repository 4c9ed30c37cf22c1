using System.Net.Http.Headers;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Webhook;

/// <summary>
/// Typed HttpClient for Webhook instances. Builds the request Segment's <c>send</c> makes — <c>User-Agent: Segment (Actions)</c>,
/// <c>X-Signature</c> when the instance has a SharedSecret, the mapped headers, <c>Content-Type: application/json</c> with a body —
/// puts the secrets in at the last moment (D29), checks the URL again (allowed hosts, scheme, private networks) and sends without
/// following redirects. Never throws for HTTP or network trouble; classifies with <see cref="PartnerCall"/> (D12).
/// </summary>
public sealed class WebhookClient(HttpClient http, TimeProvider clock)
{
    /// <summary>
    /// Sends one request alone (<paramref name="batched"/> false: the body is its <c>data</c>) or several as one batch (the body
    /// is the JSON array of their <c>data</c>, also for a batch of one; URL, method and headers are the first's, as Segment's
    /// <c>performBatch</c> takes them).
    /// </summary>
    public Task<AttemptResult> SendAsync(IReadOnlyList<PartnerRequest> requests, bool batched, WebhookSettings settings,
        WebhookSecretUse use, CancellationToken ct)
    {
        var wire = Build(requests, batched, settings, use);
        return SendAsync(new HttpMethod(wire.Method), wire.Url, wire.Headers, wire.Body, settings, ct);
    }

    /// <summary>
    /// Pure: what goes on the wire for these planned requests — method, URL and headers with the secrets put in, the body's
    /// exact bytes, the signature over them. The request-equality test compares this with Segment's own code.
    /// </summary>
    public static WebhookWireRequest Build(IReadOnlyList<PartnerRequest> requests, bool batched, WebhookSettings settings, WebhookSecretUse use)
    {
        var first = requests[0];
        byte[]? body;
        byte[]? signed;
        if (batched)
        {
            var items = requests.Select(r => JsJson.Utf8(r.Body)).ToList();
            body = Join(items);
            // Segment signs payload[0].data: the first element, when it has data.
            signed = first.Body is null ? null : items[0];
        }
        else signed = body = first.Body is null ? null : JsJson.Utf8(first.Body);

        var headers = new List<KeyValuePair<string, string>> { new("User-Agent", WebhookApi.UserAgent) };
        if (settings.SharedSecret is { } secret && signed is not null)
            headers.Add(new(WebhookApi.SignatureHeader, WebhookSignature.Sign(signed, secret)));
        foreach (var (name, value) in first.Headers ?? [])
            headers.Add(new(name, WebhookSecrets.Substitute(value, settings.Secrets, use.Headers)));

        // Later headers win over earlier ones with the same name (a mapping may set its own User-Agent), as in a JavaScript
        // Headers merge; Content-Type is application/json whenever there is a body, as Segment's request client sets it last.
        var merged = headers.GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase).Select(g => g.Last())
            .Where(h => body is null || !h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).ToList();
        if (body is not null) merged.Add(new("Content-Type", "application/json"));

        var url = WebhookSecrets.Substitute(first.Path, settings.Secrets, use.Url);
        return new WebhookWireRequest(first.Method, url, merged, body);
    }

    /// <summary>The optional credential check (<c>Settings.TestConnection</c>): its method and URL, no body; a 2xx passes.</summary>
    public Task<AttemptResult> TestAsync(WebhookTestConnection test, WebhookSettings settings, CancellationToken ct) =>
        SendAsync(new HttpMethod(test.Method), WebhookSecrets.Substitute(test.Url, settings.Secrets),
            [new("User-Agent", WebhookApi.UserAgent)], null, settings, ct);

    async Task<AttemptResult> SendAsync(HttpMethod method, string url, IReadOnlyList<KeyValuePair<string, string>> headers, byte[]? body,
        WebhookSettings settings, CancellationToken ct)
    {
        if (WebhookUrls.Check(url, settings) is { } problem) return Refused(problem);
        var uri = new Uri(url);
        if (await NetworkGuard.RefusalAsync(uri, settings.AllowPrivateNetworks, ct).ConfigureAwait(false) is { } refusal) return Refused(refusal);

        var message = new HttpRequestMessage(method, uri);
        message.Options.Set(NetworkGuard.AllowPrivate, settings.AllowPrivateNetworks);
        if (body is not null) message.Content = new ByteArrayContent(body);
        foreach (var (name, value) in headers)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) && message.Content is { } c)
            {
                c.Headers.ContentType = MediaTypeHeaderValue.Parse(value);
                continue;
            }
            if (!message.Headers.TryAddWithoutValidation(name, value))
                (message.Content ??= new ByteArrayContent([])).Headers.TryAddWithoutValidation(name, value);
        }

        var answer = await PartnerCall.SendAsync(http, message, clock, ct, onFailure: Redirect).ConfigureAwait(false);
        var result = answer.Result;
        // A partner may echo what it got (a token in an error message): nothing kept or shown may hold a secret (D29).
        return result with
        {
            ResponseExcerpt = WebhookSecrets.Scrub(result.ResponseExcerpt, settings.SecretValues),
            Error = WebhookSecrets.Scrub(result.Error, settings.SecretValues),
        };
    }

    /// <summary>Redirects are not followed (a 3xx is final): following one would send the event, and its headers, to a URL
    /// nobody allowed.</summary>
    static AttemptResult Redirect(HttpResponseMessage response, AttemptResult result)
    {
        var status = (int)response.StatusCode;
        if (status is < 300 or >= 400) return result;
        var target = response.Headers.Location is { } location
            ? location.IsAbsoluteUri ? location.GetLeftPart(UriPartial.Path) : location.OriginalString.Split('?')[0]
            : "no Location";
        return result with { Outcome = AttemptOutcome.Final, Error = $"HTTP {status}: redirects are not followed ({target})" };
    }

    static AttemptResult Refused(string reason) => new(AttemptOutcome.Final, null, null, null, reason);

    static byte[] Join(List<byte[]> items)
    {
        var total = 2 + items.Sum(i => i.Length) + Math.Max(0, items.Count - 1);
        var buffer = new byte[total];
        var at = 0;
        buffer[at++] = (byte)'[';
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0) buffer[at++] = (byte)',';
            items[i].CopyTo(buffer, at);
            at += items[i].Length;
        }
        buffer[at] = (byte)']';
        return buffer;
    }
}

/// <summary>Which secrets an instance's mappings name in the url and in the headers: only those are put in there (D29).</summary>
public sealed record WebhookSecretUse(IReadOnlySet<string> Url, IReadOnlySet<string> Headers);

/// <summary>One request as it goes on the wire: the secrets are in it, so it is never stored, logged or shown.</summary>
public sealed record WebhookWireRequest(string Method, string Url, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[]? Body);
