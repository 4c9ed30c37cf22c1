using Destinations.Core.Delivery;
using Destinations.Core.Routing;

namespace Destinations.Host.Startup;

public static class DestinationsRegistration
{
    /// <summary>Sources, destination instances (from every registered <see cref="IDestinationFactory"/>) and the router.</summary>
    public static IServiceCollection AddDestinationRouting(this IServiceCollection services)
    {
        services.AddSingleton(sp => DestinationRegistry.Build(sp.GetRequiredService<IConfiguration>(), sp.GetServices<IDestinationFactory>()));
        services.AddSingleton<Router>();
        return services;
    }

    /// <summary>
    /// Builds the registry now rather than on the first request: a bad configuration throws <see cref="ConfigurationException"/>
    /// (every key path and rule) before the host starts (<see cref="StartupCheck"/> reports it), and its warnings (e.g.
    /// AllowUnsigned, D4) are logged once.
    /// </summary>
    public static WebApplication BuildDestinationRegistryNow(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Destinations.Configuration");
        var registry = app.Services.GetRequiredService<DestinationRegistry>();
        foreach (var warning in registry.Warnings) logger.LogWarning("Configuration: {Warning}", warning);
        logger.LogInformation("{Sources} sources, {Destinations} destination instances configured",
            registry.Sources.Count, registry.Destinations.Count);
        return app;
    }
}
