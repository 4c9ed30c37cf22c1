using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// Migrates the database when the host starts, so a broken or unwritable store stops start-up with its reason instead of
/// failing the first request. (Every connection also waits for the migration, so the order of hosted services is not critical.)
/// </summary>
public sealed class StoreInitializer(SqliteDatabase db, ILogger<StoreInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await db.EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        logger.LogInformation("SQLite store ready at {DataSource}", db.DataSource);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
