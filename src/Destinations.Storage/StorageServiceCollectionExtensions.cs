using Destinations.Storage.Delivery;
using Destinations.Storage.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Destinations.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// The durable store: <see cref="IEventStore"/> (group commit), <see cref="IDeliveryQueue"/>, <see cref="DispatchSignal"/>,
    /// the migration at start and the retention purge (D17). <c>Storage:Provider</c> other than <c>Sqlite</c> stops start-up with a message.
    /// </summary>
    public static IServiceCollection AddSqliteStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DispatchSignal>();
        services.TryAddSingleton(sp => new SqliteDatabase(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString));
        services.TryAddSingleton<SqliteEventStore>();
        services.TryAddSingleton<IEventStore>(sp => sp.GetRequiredService<SqliteEventStore>());
        services.TryAddSingleton<SqliteDeliveryQueue>();
        services.TryAddSingleton<IDeliveryQueue>(sp => sp.GetRequiredService<SqliteDeliveryQueue>());
        services.TryAddSingleton<SqliteDeliveryAdmin>();
        services.TryAddSingleton<IDeliveryAdmin>(sp => sp.GetRequiredService<SqliteDeliveryAdmin>());
        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection(RetentionOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RetentionOptions>, RetentionOptionsValidator>());
        services.TryAddSingleton<SqliteRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<SqliteRetention>());
        // Inserted first so the schema exists before any other hosted service (the dispatcher) starts.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, StoreInitializer>());
        return services;
    }

    /// <summary>The background <see cref="Dispatcher"/> and its options (<c>Delivery</c> section): rate limiter (D25), batching
    /// (D15), pausing and breaker (D12). Needs the store and the <c>DestinationRegistry</c> (registered by the host); uses
    /// <c>DestinationsMetrics</c> when the host registered it.</summary>
    public static IServiceCollection AddDispatcher(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DeliveryOptions>().Bind(configuration.GetSection(DeliveryOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeliveryOptions>, DeliveryOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(RetryJitter.Shared);
        services.TryAddSingleton<DestinationRateLimiter>();
        services.TryAddSingleton<DeliveryProcessor>();
        services.TryAddSingleton<BatchSender>();
        services.TryAddSingleton<DeliveryRunner>();
        services.AddHostedService<Dispatcher>();
        return services;
    }
}
