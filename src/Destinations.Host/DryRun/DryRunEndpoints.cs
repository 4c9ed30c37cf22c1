using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Destinations.Host.Admin;
using Destinations.Host.Ingress;
using Destinations.Host.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Destinations.Host.DryRun;

/// <summary><c>POST /v1/dry-run</c> (admin key, D21): a Segment event in; per destination instance what delivery would do.</summary>
public static class DryRunEndpoints
{
    public const string SourceParameter = "source";

    public static RouteGroupBuilder MapDryRun(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Event tester").RequireAdminKey()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        group.MapPost("/dry-run", Run).WithName("DryRun")
            .WithSummary("Event tester: routing, mapped partner requests and filter reasons per destination instance; ?send=true sends them now")
            .WithDescription("The same code path as delivery (Router, then each destination's mapper). Nothing is stored. With send=true the " +
                             "requests are sent synchronously, bypassing queue, dedupe, stats and dead letters, and each carries the partner's answer.")
            .WithMetadata(DryRunExamples.Request, DryRunExamples.Response);
        return group;
    }

    /// <param name="source">The source the event is routed as coming from; may be left out when exactly one source is configured.</param>
    /// <param name="send">Send the mapped requests now and return the partner's answers.</param>
    static async Task<Results<Ok<DryRunAnswer>, ProblemHttpResult>> Run(
        HttpContext http, IngressServices ingress, DryRunner runner, string? source = null, bool send = false, CancellationToken ct = default)
    {
        var sourceId = ResolveSource(ingress.Registry, source, out var sourceProblem);
        if (sourceProblem is not null) return sourceProblem;

        var body = await RequestBodyReader.ReadAsync(http.Request, ingress.MaxBodyBytes, ct);
        if (body.Problem is { } problem) return problem;
        var payload = ingress.Reader.ReadWebhook(body.Bytes); // one Spec event with its type, as a Segment webhook carries it
        if (!payload.EnvelopeIsValid) return IngressProblems.Invalid(payload.EnvelopeErrors);
        if (payload.Shape != PayloadShape.Single)
            return IngressProblems.Invalid([new FieldError(FieldError.Body, "the event tester takes one event object, not an array")]);
        var read = payload.Events[0];
        if (!read.IsValid) return IngressProblems.Invalid(read.Errors);

        return TypedResults.Ok(await runner.RunAsync(sourceId!, read.Event!, send, ct));
    }

    static string? ResolveSource(DestinationRegistry registry, string? source, out ProblemHttpResult? problem)
    {
        problem = null;
        if (!string.IsNullOrEmpty(source))
        {
            if (registry.FindSource(source) is not null) return source;
            problem = IngressProblems.Invalid([new FieldError(SourceParameter, $"no source '{source}' is configured (one of: {Names(registry)})")]);
            return null;
        }
        if (registry.Sources.Count == 1) return registry.Sources[0].Id;
        problem = IngressProblems.Invalid([new FieldError(SourceParameter, registry.Sources.Count == 0
            ? "no source is configured"
            : $"is required when several sources are configured (one of: {Names(registry)})")]);
        return null;
    }

    static string Names(DestinationRegistry registry) => string.Join(", ", registry.Sources.Select(s => s.Id));
}
