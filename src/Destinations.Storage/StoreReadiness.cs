using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace Destinations.Storage;

/// <summary>The readiness probe of both event stores (<see cref="IEventStore.IsReadyAsync"/>).</summary>
static class StoreReadiness
{
    /// <summary>True when <paramref name="probeSql"/> runs on a fresh connection and then <paramref name="writerRunning"/>
    /// holds; otherwise logs why and returns false (a cancelled probe throws).</summary>
    public static async Task<bool> ProbeAsync(Func<CancellationToken, Task<DbConnection>> open, string probeSql, Func<bool> writerRunning,
        ILogger logger, CancellationToken ct)
    {
        try
        {
            await using var conn = await open(ct).ConfigureAwait(false);
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = probeSql;
            await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
            return writerRunning();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Event store not ready: {Error}", ex.GetType().Name + ": " + ex.Message);
            return false;
        }
    }
}
