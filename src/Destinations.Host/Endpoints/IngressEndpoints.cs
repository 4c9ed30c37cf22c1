using Destinations.Core.Configuration;
using Destinations.Core.Segment;
using Destinations.Host.Ingress;
using Destinations.Host.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Destinations.Host.Endpoints;

/// <summary>
/// The Segment ingress (docs/ingress.md "Endpoints"): Webhooks destination and Tracking-API-compatible endpoints.
/// Flow: read the body (bounded) → authenticate → parse → validate → route → store durably → answer (D1, D2).
/// </summary>
public static class IngressEndpoints
{
    static readonly string[] TrackingApiTypes =
        [CallTypes.Track, CallTypes.Identify, CallTypes.Page, CallTypes.Screen, CallTypes.Group, CallTypes.Alias];

    /// <summary>The ingress's paths: <c>/v1/…</c> except the operator's dry run.</summary>
    public static bool IsIngressPath(PathString path) => path.StartsWithSegments("/v1") && !path.StartsWithSegments("/v1/dry-run");

    public static RouteGroupBuilder MapIngress(this IEndpointRouteBuilder app)
    {
        // A singleton, taken from the root provider: a handler parameter resolved from DI would open a service scope for
        // every ingested request, and nothing the ingress uses is scoped.
        var root = app.ServiceProvider;
        IngressServices Ingress() => root.GetRequiredService<IngressServices>();

        var v1 = app.MapGroup("/v1").WithTags("Ingress")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        // The handlers are lambdas (for the services above), named as their method groups would name them.
        v1.MapPost("/webhook/{sourceId}", (string sourceId, HttpContext http, CancellationToken ct) => AcceptWebhook(sourceId, http, Ingress(), ct))
            .WithName(nameof(AcceptWebhook))
            .WithSummary("Segment Webhooks destination: one event or a Webhooks (Actions) array, signed with X-Signature")
            .WithMetadata(IngressExamples.Webhook, IngressExamples.SingleAnswer).ProducesProblem(StatusCodes.Status404NotFound);
        v1.MapPost("/webhook", (HttpContext http, CancellationToken ct) => AcceptWebhookForTheOnlySource(http, Ingress(), ct))
            .WithName(nameof(AcceptWebhookForTheOnlySource))
            .WithSummary("Segment Webhooks destination when exactly one source is configured")
            .WithMetadata(IngressExamples.Webhook, IngressExamples.SingleAnswer).ProducesProblem(StatusCodes.Status404NotFound);

        foreach (var type in TrackingApiTypes)
            v1.MapPost($"/{type}", (HttpContext http, CancellationToken ct) => AcceptTrackingApi(http, Ingress(), type, ct))
                .WithName($"Accept{char.ToUpperInvariant(type[0])}{type[1..]}")
                .WithSummary($"Tracking API: one {type} event (the path decides the type)")
                .WithMetadata(IngressExamples.ForType(type), IngressExamples.SingleAnswer);

        v1.MapPost("/batch", (HttpContext http, CancellationToken ct) => AcceptTrackingApi(http, Ingress(), null, ct)).WithName("AcceptBatch").WithSummary("Tracking API batch (what analytics-node sends)").WithMetadata(IngressExamples.Batch, IngressExamples.BatchAnswer);
        v1.MapPost("/import", (HttpContext http, CancellationToken ct) => AcceptTrackingApi(http, Ingress(), null, ct)).WithName("AcceptImport").WithSummary("Alias of /v1/batch").WithMetadata(IngressExamples.Batch, IngressExamples.BatchAnswer);
        return v1;
    }

    static async Task<Results<SingleAcceptedResult, Ok<BatchAccepted>, ProblemHttpResult>> AcceptWebhook(
        string sourceId, HttpContext http, IngressServices ingress, CancellationToken ct)
    {
        var source = ingress.Registry.FindSource(sourceId);
        if (source is null) return IngressProblems.NotFound($"no source '{sourceId}' is configured");
        return await AcceptWebhookFrom(source, http, ingress, ct);
    }

    static async Task<Results<SingleAcceptedResult, Ok<BatchAccepted>, ProblemHttpResult>> AcceptWebhookForTheOnlySource(
        HttpContext http, IngressServices ingress, CancellationToken ct)
    {
        var sources = ingress.Registry.Sources;
        if (sources.Count != 1)
            return IngressProblems.NotFound(sources.Count == 0
                ? "no source is configured"
                : $"{sources.Count} sources are configured: post to /v1/webhook/{{sourceId}} (one of: {string.Join(", ", sources.Select(s => s.Id))})");
        return await AcceptWebhookFrom(sources[0], http, ingress, ct);
    }

    static async Task<Results<SingleAcceptedResult, Ok<BatchAccepted>, ProblemHttpResult>> AcceptWebhookFrom(
        SourceOptions source, HttpContext http, IngressServices ingress, CancellationToken ct)
    {
        var body = await RequestBodyReader.ReadAsync(http.Request, ingress.MaxBodyBytes, ct);
        if (body.Problem is { } problem) return problem;

        // D4: a source's webhooks must carry a valid X-Signature unless the source explicitly allows unsigned ones.
        if (!source.AllowUnsigned)
        {
            var signature = http.Request.Headers["X-Signature"].ToString();
            if (string.IsNullOrEmpty(source.SharedSecret))
                return IngressProblems.Unauthorized($"source '{source.Id}' has no SharedSecret: signed webhooks cannot be verified");
            if (signature.Length == 0) return IngressProblems.Unauthorized("the X-Signature header is missing");
            if (!WebhookSignature.IsValid(body.Bytes.Span, source.SharedSecret, signature))
                return IngressProblems.Unauthorized("the X-Signature does not match the body for this source's shared secret");
        }
        return await ingress.Flow.AcceptAsync(http, source, ingress.Reader.ReadWebhook(body.Bytes), ct);
    }

    /// <summary>
    /// A write key in the Basic header is checked before the body is parsed. Without one, the body must be parsed to find
    /// its <c>writeKey</c>: a body that is not JSON (or over a size limit) is then a 400, since no key can be read from it.
    /// </summary>
    /// <param name="pathType">The type <c>/v1/&lt;type&gt;</c> implies; null for a batch. (A type, not a reader delegate: a
    /// delegate made per request is an allocation on every ingest call.)</param>
    static async Task<Results<SingleAcceptedResult, Ok<BatchAccepted>, ProblemHttpResult>> AcceptTrackingApi(
        HttpContext http, IngressServices ingress, string? pathType, CancellationToken ct)
    {
        var source = ingress.Authenticator.FindByHeader(http.Request, out var headerKey);
        if (headerKey && source is null) return IngressProblems.Unauthorized("the write key is not valid");

        var body = await RequestBodyReader.ReadAsync(http.Request, ingress.MaxBodyBytes, ct);
        if (body.Problem is { } problem) return problem;
        var payload = pathType is null ? ingress.Reader.ReadBatch(body.Bytes) : ingress.Reader.ReadTrackingApiEvent(body.Bytes, pathType);
        if (source is null)
        {
            if (!payload.IsJson) return IngressProblems.Invalid(payload.EnvelopeErrors);
            if (string.IsNullOrEmpty(payload.WriteKey))
                return IngressProblems.Unauthorized("a write key is required: HTTP Basic username (empty password) or writeKey in the body");
            source = ingress.Authenticator.FindByWriteKey(payload.WriteKey);
            if (source is null) return IngressProblems.Unauthorized("the write key is not valid");
        }
        return await ingress.Flow.AcceptAsync(http, source, payload, ct);
    }
}
