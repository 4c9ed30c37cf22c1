using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Host.Ingress;
using Destinations.Host.OpenApi;
using Destinations.Core.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Destinations.Host.Admin;

/// <summary>The admin API (behind the admin key, D21 in docs/decisions.md): destination instances with masked settings and store stats, and the credential check.</summary>
public static class AdminEndpoints
{
    public static RouteGroupBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").WithTags("Admin").RequireAdminKey();
        admin.MapGet("/destinations", ListDestinations)
            .WithSummary("Every configured destination instance: linked sources, settings (secrets masked), stats")
            .WithMetadata(AdminExamples.List);
        admin.MapGet("/destinations/{id}", GetDestination)
            .WithSummary("One destination instance: linked sources, settings (secrets masked), stats")
            .WithMetadata(AdminExamples.One);
        admin.MapGet("/destinations/{id}/stats", GetStats)
            .WithSummary("Delivery counts of one instance, read from the store (so the same on every replica)")
            .WithMetadata(AdminExamples.Stats);
        admin.MapPost("/destinations/{id}/test-connection", TestConnection)
            .WithSummary("Runs the partner's credential check now (e.g. Salesmachine GET /v1/ping); 200 with ok=false when it fails")
            .WithMetadata(AdminExamples.ConnectionTest)
            .ProducesProblem(StatusCodes.Status501NotImplemented);
        admin.MapDeadLetters();
        return admin;
    }

    static async Task<Ok<DestinationList>> ListDestinations(DestinationRegistry registry, IDeliveryAdmin store, CancellationToken ct)
    {
        var list = new List<DestinationSummary>();
        foreach (var d in registry.Destinations) list.Add(await SummaryAsync(d, registry, store, ct));
        return TypedResults.Ok(new DestinationList(list));
    }

    static async Task<Results<Ok<DestinationSummary>, ProblemHttpResult>> GetDestination(
        string id, DestinationRegistry registry, IDeliveryAdmin store, CancellationToken ct) =>
        registry.Find(id) is { } d ? TypedResults.Ok(await SummaryAsync(d, registry, store, ct)) : UnknownDestination(id);

    static async Task<Results<Ok<DestinationStatsView>, ProblemHttpResult>> GetStats(
        string id, DestinationRegistry registry, IDeliveryAdmin store, CancellationToken ct) =>
        registry.Find(id) is { } d ? TypedResults.Ok(View(await store.GetStatsAsync(d.Id, ct))) : UnknownDestination(id);

    static async Task<Results<Ok<ConnectionTestAnswer>, ProblemHttpResult>> TestConnection(
        string id, DestinationRegistry registry, ILogger<ConnectionTestAnswer> logger, CancellationToken ct)
    {
        if (registry.Find(id) is not { } d) return UnknownDestination(id);
        if (d is not IConnectionTest test)
            return IngressProblems.Create(StatusCodes.Status501NotImplemented, "No connection test",
                $"destination instance '{id}' ({d.IntegrationName}) offers no connection test");
        var check = await test.TestConnectionAsync(ct);
        logger.LogInformation("Connection test of {Destination}: {Ok}", id, check.Ok ? "ok" : "failed");
        return TypedResults.Ok(ConnectionTestAnswer.From(id, check));
    }

    static async Task<DestinationSummary> SummaryAsync(IDestination d, DestinationRegistry registry, IDeliveryAdmin store, CancellationToken ct) =>
        new(d.Id, d.IntegrationName,
            registry.Sources.Where(s => registry.IsLinked(d.Id, s.Id)).Select(s => s.Id).ToList(),
            MaskedSettings(d),
            d is IConnectionTest,
            View(await store.GetStatsAsync(d.Id, ct)))
        {
            Filters = registry.FiltersOf(d.Id).All is { Count: > 0 } filters
                ? filters.Select(f => new ConfiguredFilter(f.Index, f.Kind, f.Describe())).ToList()
                : null,
        };

    /// <summary>Only what the partner declares through <see cref="IDescribedSettings"/> (already masked); nothing else is shown.</summary>
    public static IReadOnlyDictionary<string, string?> MaskedSettings(IDestination d) =>
        d is IDescribedSettings described ? described.MaskedSettings : new Dictionary<string, string?>();

    static DestinationStatsView View(DestinationStats s) =>
        new(s.PendingNew, s.Retrying, s.Delivered, s.Invalid, s.Dead, s.FilteredTotal, s.Filtered, Sentences(s.Filtered.Keys), s.Duplicates,
            StateName(s.State), s.State?.HeldSince, s.State?.HoldReason, s.State?.NextProbeAt, s.Held, s.LastErrors);

    static Dictionary<string, string> Sentences(IEnumerable<string> codes) =>
        codes.Select(FilterReason.Find).OfType<FilterReason>().ToDictionary(r => r.Code, r => r.Sentence, StringComparer.Ordinal);

    static string StateName(InstanceState? state) => state?.Hold switch
    {
        InstanceHold.Paused => "paused",
        InstanceHold.BreakerOpen => "breaker-open",
        _ => "active",
    };

    static ProblemHttpResult UnknownDestination(string id) =>
        IngressProblems.NotFound($"no destination instance '{id}' is configured");
}
