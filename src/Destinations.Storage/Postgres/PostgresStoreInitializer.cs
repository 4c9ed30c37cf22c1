using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Destinations.Storage.Postgres;

/// <summary>
/// Applies the migrations when the host starts (under an advisory lock, so replicas starting together do not race), so an
/// unreachable database stops start-up with its reason. Logs where, never the connection string.
/// </summary>
public sealed class PostgresStoreInitializer(PostgresDatabase db, ILogger<PostgresStoreInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await db.EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        logger.LogInformation("PostgreSQL store ready at {Database}", db.Describe);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
