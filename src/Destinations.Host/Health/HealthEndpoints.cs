using Destinations.Storage;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Destinations.Host.Health;

/// <summary>Ready means the event store can be read and written (docs/configuration.md "Hosting, health and probe mode").</summary>
public sealed class EventStoreHealthCheck(IEventStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            return await store.IsReadyAsync(ct) ? HealthCheckResult.Healthy("event store ready") : HealthCheckResult.Unhealthy("event store not ready");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("event store unreachable", ex);
        }
    }
}

public static class HealthEndpoints
{
    const string Ready = "ready";

    public static IServiceCollection AddDestinationsHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<EventStoreHealthCheck>("event-store", tags: [Ready]);
        return services;
    }

    /// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: and the store is usable (503 when not).</summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready) });
        return app;
    }
}
