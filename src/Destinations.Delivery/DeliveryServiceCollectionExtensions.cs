using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Destinations.Delivery;

public static class DeliveryServiceCollectionExtensions
{
    /// <summary>The background <see cref="Dispatcher"/> and its options (<c>Delivery</c> section): rate limiter (D25), batching
    /// (D15), pausing and breaker (D12). Needs the store and the <c>DestinationRegistry</c> (registered by the host); uses
    /// <c>DestinationsMetrics</c> when the host registered it.</summary>
    public static IServiceCollection AddDelivery(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DeliveryOptions>().Bind(configuration.GetSection(DeliveryOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeliveryOptions>, DeliveryOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(RetryJitter.Shared);
        services.TryAddSingleton<DestinationRateLimiter>();
        services.TryAddSingleton<DeliverySender>();
        services.AddHostedService<Dispatcher>();
        return services;
    }
}
