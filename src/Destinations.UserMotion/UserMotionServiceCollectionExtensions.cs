using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Destinations.UserMotion;

public static class UserMotionServiceCollectionExtensions
{
    public const string PipelineName = "usermotion";

    /// <summary>Registers the UserMotion factory, its typed client with the D14 pipeline, and <see cref="UserMotionClientOptions"/>.</summary>
    public static IServiceCollection AddUserMotion(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<UserMotionClientOptions>()
            .Bind(configuration.GetSection(UserMotionClientOptions.SectionName))
            .ValidatePartnerClient("UserMotion")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDestinationFactory, UserMotionDestinationFactory>());

        // The D14 pipeline shared by every partner (Core/Delivery/PartnerHttpClient.cs).
        services.AddPartnerHttpClient<UserMotionClient, UserMotionClientOptions>(PipelineName);
        return services;
    }
}
