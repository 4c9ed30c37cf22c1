using Destinations.Storage.Postgres;
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
    /// The durable store chosen by <c>Storage:Provider</c> (<c>Sqlite</c>, the default, or <c>Postgres</c>):
    /// <see cref="IEventStore"/> (group commit), <see cref="IDeliveryQueue"/>, <see cref="IDeliveryAdmin"/>, <see cref="IEventHistory"/>, <see cref="IOutcomeTimeline"/>,
    /// <see cref="DispatchSignal"/>, the migration at start and the retention purge (D17). An unknown provider stops start-up
    /// with a message (options validation).
    /// </summary>
    public static IServiceCollection AddStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DispatchSignal>();
        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection(RetentionOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RetentionOptions>, RetentionOptionsValidator>());
        if (StorageOptions.IsPostgresName(configuration[$"{StorageOptions.Section}:{nameof(StorageOptions.Provider)}"]))
            AddPostgres(services);
        else
            AddSqlite(services);
        return services;
    }

    /// <summary>Kept for the Host: the same as <see cref="AddStore"/> (chooses the provider from <c>Storage:Provider</c>).</summary>
    public static IServiceCollection AddSqliteStore(this IServiceCollection services, IConfiguration configuration) =>
        services.AddStore(configuration);

    static void AddSqlite(IServiceCollection services)
    {
        services.TryAddSingleton(sp => new SqliteDatabase(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString));
        services.TryAddSingleton<SqliteEventStore>();
        services.TryAddSingleton<IEventStore>(sp => sp.GetRequiredService<SqliteEventStore>());
        services.TryAddSingleton<SqliteDeliveryQueue>();
        services.TryAddSingleton<IDeliveryQueue>(sp => sp.GetRequiredService<SqliteDeliveryQueue>());
        services.TryAddSingleton<SqliteDeliveryAdmin>();
        services.TryAddSingleton<IDeliveryAdmin>(sp => sp.GetRequiredService<SqliteDeliveryAdmin>());
        services.TryAddSingleton(sp => new SqliteEventHistory(sp.GetRequiredService<SqliteDatabase>()));
        services.TryAddSingleton<IEventHistory>(sp => sp.GetRequiredService<SqliteEventHistory>());
        services.TryAddSingleton<IOutcomeTimeline>(sp => sp.GetRequiredService<SqliteEventHistory>());
        services.TryAddSingleton<SqliteRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<SqliteRetention>());
        // Inserted first so the schema exists before any other hosted service (the dispatcher) starts.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, StoreInitializer>());
    }

    static void AddPostgres(IServiceCollection services)
    {
        services.TryAddSingleton(sp => new PostgresDatabase(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString));
        services.TryAddSingleton<PostgresEventStore>();
        services.TryAddSingleton<IEventStore>(sp => sp.GetRequiredService<PostgresEventStore>());
        services.TryAddSingleton<PostgresDeliveryQueue>();
        services.TryAddSingleton<IDeliveryQueue>(sp => sp.GetRequiredService<PostgresDeliveryQueue>());
        services.TryAddSingleton<PostgresDeliveryAdmin>();
        services.TryAddSingleton<IDeliveryAdmin>(sp => sp.GetRequiredService<PostgresDeliveryAdmin>());
        services.TryAddSingleton(sp => new PostgresEventHistory(sp.GetRequiredService<PostgresDatabase>()));
        services.TryAddSingleton<IEventHistory>(sp => sp.GetRequiredService<PostgresEventHistory>());
        services.TryAddSingleton<IOutcomeTimeline>(sp => sp.GetRequiredService<PostgresEventHistory>());
        services.TryAddSingleton<PostgresRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<PostgresRetention>());
        // Inserted first: migrations (under an advisory lock) before the dispatcher starts claiming.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, PostgresStoreInitializer>());
    }
}
