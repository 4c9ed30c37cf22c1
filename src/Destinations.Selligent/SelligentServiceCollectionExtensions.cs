using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Destinations.Selligent;

public static class SelligentServiceCollectionExtensions
{
    public const string PipelineName = "selligent";

    /// <summary>
    /// Registers the SMC factory, <see cref="SelligentOptions"/> (section <c>Selligent</c>), the per-list load locks and the
    /// typed client with the same D14 pipeline as Salesmachine.
    /// </summary>
    public static IServiceCollection AddSelligent(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SelligentOptions>()
            .Bind(configuration.GetSection(SelligentOptions.SectionName))
            .ValidatePartnerClient("Selligent")
            .Validate(o => o.MaxRowsPerLoad >= 1, "Selligent:MaxRowsPerLoad: must be 1 or more")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        // One lock table per process: loads to one list are serialised across every worker and instance.
        services.TryAddSingleton<SelligentListLocks>();
        // TryAddEnumerable: calling AddSelligent twice must not register the type twice (the registry keys factories by Type).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDestinationFactory, SelligentDestinationFactory>());

        // The D14 pipeline shared by every partner (Core/Delivery/PartnerHttpClient.cs).
        services.AddPartnerHttpClient<SelligentClient, SelligentOptions>(PipelineName);
        return services;
    }
}
