using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Destinations.Host.Startup;

public static class LoggingSetup
{
    /// <summary>ASP.NET Core's per-request hosting logger, turned off (see <see cref="AddDestinationsLogging"/>).</summary>
    public const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    const string PlainTemplate =
        "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{DeliveryScope:l}{NewLine}{Exception}";

    /// <summary>Serilog to the console; <c>Logging:Json=true</c> → compact JSON (one event per line, for collectors).</summary>
    public static IServiceCollection AddDestinationsLogging(this IServiceCollection services) =>
        services.AddSerilog((sp, log) =>
        {
            var configuration = sp.GetRequiredService<IConfiguration>();
            log.ReadFrom.Configuration(configuration)
                .ReadFrom.Services(sp) // sinks registered as ILogEventSink (tests capture logs this way)
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                // Off, not Warning: while this category is enabled at any level, ASP.NET Core's hosting layer opens a log scope
                // and starts an Activity for every request (~1 KB and two async-local changes each), for lines that are never
                // written. Its lines are the Information-level request start and finish (RequestLogging writes the one line per
                // request) and startup failures, which the generic host also logs (Microsoft.Extensions.Hosting) and rethrows.
                .MinimumLevel.Override(HostingDiagnostics, LevelAlias.Off)
                .Enrich.FromLogContext()
                .Enrich.With<DeliveryScopeEnricher>();
            if (configuration.GetValue<bool>("Logging:Json")) log.WriteTo.Console(new CompactJsonFormatter());
            // The plain console shows the per-delivery scope (destination, messageId) after the message; JSON carries every property.
            else log.WriteTo.Console(outputTemplate: PlainTemplate);
        });

    /// <summary>One line per request: method, path, status, time. Headers (Authorization, X-Signature) are never logged.
    /// Successful requests (2xx/3xx) at Debug — a console line per accepted event is a large share of the ingest CPU
    /// (docs/benchmarks.md) — 4xx at Information, 5xx and exceptions at Error.</summary>
    public static WebApplication UseDestinationsRequestLogging(this WebApplication app)
    {
        app.UseMiddleware<RequestLogging>((Func<HttpContext, Exception?, LogEventLevel>)RequestLevel);
        return app;
    }

    static LogEventLevel RequestLevel(HttpContext http, Exception? ex) =>
        ex is not null || http.Response.StatusCode >= 500 ? LogEventLevel.Error
        : http.Response.StatusCode >= 400 ? LogEventLevel.Information
        : LogEventLevel.Debug;
}
