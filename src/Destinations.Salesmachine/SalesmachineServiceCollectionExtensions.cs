using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Destinations.Salesmachine;

public static class SalesmachineServiceCollectionExtensions
{
    public const string PipelineName = "salesmachine";

    /// <summary>Registers the Salesmachine factory, its typed client with the D14 pipeline, and <see cref="SalesmachineClientOptions"/>.</summary>
    public static IServiceCollection AddSalesmachine(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SalesmachineClientOptions>()
            .Bind(configuration.GetSection(SalesmachineClientOptions.SectionName))
            .ValidatePartnerClient("Salesmachine")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        // TryAddEnumerable: calling AddSalesmachine twice must not register the type twice (the registry keys factories by Type).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDestinationFactory, SalesmachineDestinationFactory>());

        // The D14 pipeline shared by every partner (Core/Delivery/PartnerHttpClient.cs).
        services.AddPartnerHttpClient<SalesmachineClient, SalesmachineClientOptions>(PipelineName);
        return services;
    }
}
