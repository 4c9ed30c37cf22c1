using Destinations.Storage.Postgres;
using Destinations.Storage.Sqlite;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Destinations.Storage.Operator;

public static class OperatorStoreServiceCollectionExtensions
{
    /// <summary>The console's tables on the provider <c>Storage:Provider</c> names (after <see cref="StorageServiceCollectionExtensions.AddStore"/>):
    /// <see cref="IAuditLog"/>, <see cref="IFailureQueries"/> and the Data Protection key repository (<see cref="IXmlRepository"/>).</summary>
    public static IServiceCollection AddOperatorStore(this IServiceCollection services, IConfiguration configuration)
    {
        if (StorageOptions.IsPostgresName(configuration[$"{StorageOptions.Section}:{nameof(StorageOptions.Provider)}"]))
            Add<PostgresOperatorStore>(services, sp => new PostgresOperatorStore(sp.GetRequiredService<PostgresDatabase>(), sp.GetRequiredService<TimeProvider>()));
        else
            Add<SqliteOperatorStore>(services, sp => new SqliteOperatorStore(sp.GetRequiredService<SqliteDatabase>(), sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    static void Add<T>(IServiceCollection services, Func<IServiceProvider, T> create) where T : class, IAuditLog, IFailureQueries, IXmlRepository
    {
        services.TryAddSingleton(create);
        services.TryAddSingleton<IAuditLog>(sp => sp.GetRequiredService<T>());
        services.TryAddSingleton<IFailureQueries>(sp => sp.GetRequiredService<T>());
        // Data Protection does not resolve this itself: the host sets it as KeyManagementOptions.XmlRepository.
        services.TryAddSingleton<IXmlRepository>(sp => sp.GetRequiredService<T>());
    }
}
