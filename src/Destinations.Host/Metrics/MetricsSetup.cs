using Destinations.Core.Diagnostics;
using Destinations.Host.Endpoints;
using Microsoft.AspNetCore.Routing.Patterns;
using OpenTelemetry.Metrics;

namespace Destinations.Host.Metrics;

public static class MetricsSetup
{
    public const string ScrapePath = "/metrics";

    static readonly double[] AttemptBucketsSeconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    /// <summary>
    /// The service's instruments (<see cref="DestinationsMetrics"/>) and ASP.NET Core's, exported by OpenTelemetry in the
    /// Prometheus text format at <see cref="ScrapePath"/>, plus the queue gauges.
    /// </summary>
    public static IServiceCollection AddDestinationsMetrics(this IServiceCollection services)
    {
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section)
            .Validate(o => o.QueueSampleInterval >= TimeSpan.FromMilliseconds(100), "Metrics:QueueSampleInterval: must be at least 00:00:00.100")
            .ValidateOnStart();
        services.AddMetrics();
        services.AddSingleton<DestinationsMetrics>();
        services.AddHostedService<QueueGauges>();
        services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(DestinationsMetrics.MeterName)
            .AddAspNetCoreInstrumentation()
            // The SDK's default buckets (0, 5, 10 … 10000) suit milliseconds; attempts are recorded in seconds (D13: 10 s timeout).
            .AddView("destinations.delivery.attempt.duration", new ExplicitBucketHistogramConfiguration { Boundaries = AttemptBucketsSeconds })
            // Not collected: Kestrel's memory pool counts every buffer it rents and returns, and routing counts every match,
            // so each ingested request paid several counter updates (a look-up by tags each, the largest item of the
            // service's own code in a profile of the ingress) for figures nobody reads; a dropped instrument is never enabled.
            .AddView("aspnetcore.memory_pool.*", MetricStreamConfiguration.Drop)
            .AddView("aspnetcore.routing.match_attempts", MetricStreamConfiguration.Drop)
            // No scrape cache: every scrape shows the counts of that moment (tests and dashboards read exact values).
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary>
    /// Counts every ingress request by route and final status. Registered before the exception handler, so the status an
    /// exception was turned into (400, 413, 503) is the one counted. Unmatched paths share one label (bounded cardinality).
    /// </summary>
    public static WebApplication UseIngressRequestMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<DestinationsMetrics>();
        app.Use(async (http, next) =>
        {
            if (!IngressEndpoints.IsIngressPath(http.Request.Path))
            {
                await next(http);
                return;
            }
            var endpoint = Endpoint(http); // read now: the exception handler clears the endpoint before it answers
            try
            {
                await next(http);
            }
            finally
            {
                metrics.IngressRequest(endpoint, http.Response.StatusCode);
            }
        });
        return app;
    }

    public static WebApplication MapDestinationsMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(ScrapePath);
        return app;
    }

    static string Endpoint(HttpContext http) =>
        http.GetEndpoint() is RouteEndpoint { RoutePattern: RoutePattern pattern } ? pattern.RawText ?? "unmatched" : "unmatched";
}
