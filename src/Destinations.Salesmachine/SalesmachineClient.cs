using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;

namespace Destinations.Salesmachine;

/// <summary>
/// Typed HttpClient for Salesmachine's JSON API. Adds the Basic auth header per instance (so plans and dry-runs hold no
/// secret), sends, and classifies the answer (D12). Never throws for HTTP or network trouble: the dispatcher decides.
/// Its resilience pipeline (per-attempt timeout, retry of unsent requests only, D14) is set up in
/// <see cref="SalesmachineServiceCollectionExtensions"/>.
/// </summary>
public sealed class SalesmachineClient(HttpClient http, TimeProvider clock)
{
    static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");

    public Task<AttemptResult> SendAsync(PartnerRequest request, SalesmachineSettings settings, CancellationToken ct)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), settings.UrlFor(request.Path));
        if (request.Body is not null) message.Content = Utf8Json(request.Body);
        return SendAsync(message, settings, ct);
    }

    /// <summary>Per thread: the writing is synchronous, and the buffer grows once to the largest body instead of per call.</summary>
    [ThreadStatic] static ArrayBufferWriter<byte>? t_buffer;

    /// <summary>The body written as UTF-8 once: a batch of 100 items as a .NET string first would be a large-object-heap
    /// allocation per call, copied again into bytes.</summary>
    static ByteArrayContent Utf8Json(JsonNode body)
    {
        // WriteTo, not JsonSerializer: a batch body is a JsonValue that writes itself with its own converter.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(16 * 1024);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer)) body.WriteTo(writer);
        var content = new ByteArrayContent(buffer.WrittenSpan.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Credential check: <c>GET /v1/ping</c> with the Basic auth header (D15), for a test-connection action.</summary>
    public Task<AttemptResult> PingAsync(SalesmachineSettings settings, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, settings.UrlFor(SalesmachineApi.PingPath)), settings, ct);

    async Task<AttemptResult> SendAsync(HttpRequestMessage message, SalesmachineSettings settings, CancellationToken ct)
    {
        message.Headers.Authorization = BasicAuth(settings);
        message.Headers.Accept.Add(Json);
        return (await PartnerCall.SendAsync(http, message, clock, ct).ConfigureAwait(false)).Result;
    }

    /// <summary>username = API token, password = API secret (which may be empty).</summary>
    static AuthenticationHeaderValue BasicAuth(SalesmachineSettings settings) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.ApiToken}:{settings.ApiSecret}")));
}
