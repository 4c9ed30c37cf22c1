using Microsoft.Extensions.Options;

namespace Destinations.Storage;

/// <summary>The <c>Storage</c> configuration section.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string SqliteProvider = "Sqlite";
    public const string PostgresProvider = "Postgres";

    /// <summary>Which store this service uses: <c>Sqlite</c> (one process) or <c>Postgres</c> (N replicas share one queue);
    /// case-insensitive, <c>PostgreSQL</c> also accepted.</summary>
    public string Provider { get; set; } = SqliteProvider;

    public bool IsPostgres => IsPostgresName(Provider);

    public static bool IsPostgresName(string? provider) =>
        string.Equals(provider, PostgresProvider, StringComparison.OrdinalIgnoreCase) || string.Equals(provider, "PostgreSQL", StringComparison.OrdinalIgnoreCase);

    /// <summary>SQLite: the file (its folder is created when missing, D27). Postgres: the Npgsql connection string (may hold
    /// a password: never logged; prefer the environment variable <c>Storage__ConnectionString</c>).</summary>
    public string ConnectionString { get; set; } = "Data Source=data/destinations.db";

    /// <summary>How long (sourceId, messageId) is remembered to drop duplicates (D5).</summary>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Group commit: at most this many events share one transaction; unset, the provider's default
    /// (<see cref="SqliteGroupCommitMaxEvents"/>, <see cref="PostgresGroupCommitMaxEvents"/>).</summary>
    public int? GroupCommitMaxEvents { get; set; }

    /// <summary>SQLite's default group: one fsync per group is most of a small group's cost, and a request is never split,
    /// so with 256 only two 100-event batch requests fit in a commit (docs/benchmarks.md measured 1,024 against 256 and 4,096).</summary>
    public const int SqliteGroupCommitMaxEvents = 1024;

    /// <summary>PostgreSQL's default group: each event of a group holds a transaction-scoped advisory lock on its messageId
    /// hash (D5) until the commit, and the server's lock table is shared by every connection (docs/storage.md).</summary>
    public const int PostgresGroupCommitMaxEvents = 256;

    /// <summary>Group commit: the longest the writer may wait for more events before it commits what it has. SQLite never
    /// waits (it commits what is queued; the next group forms during the fsync), so this is only an upper bound there.</summary>
    public TimeSpan GroupCommitMaxDelay { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>PostgreSQL: partitions of each instance's log (by user key), the unit replicas lease. More partitions than
    /// replicas lets every replica work; changing it re-reads each instance from its slowest partition's cursor.</summary>
    public int Partitions { get; set; } = 4;
}

/// <summary>Start-up validation of <see cref="StorageOptions"/>: every message names its key and the rule.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions o)
    {
        var errors = new List<string>();
        if (!o.IsPostgres && !string.Equals(o.Provider, StorageOptions.SqliteProvider, StringComparison.OrdinalIgnoreCase))
            errors.Add($"Storage:Provider: '{o.Provider}' is not a store (available: {StorageOptions.SqliteProvider}, {StorageOptions.PostgresProvider})");
        if (string.IsNullOrWhiteSpace(o.ConnectionString))
            errors.Add("Storage:ConnectionString: is required");
        else if (o.IsPostgres && PostgresConnectionError(o.ConnectionString) is { } error)
            errors.Add($"Storage:ConnectionString: {error}");
        if (o.DedupeWindow <= TimeSpan.Zero)
            errors.Add($"Storage:DedupeWindow: must be positive (was {o.DedupeWindow})");
        if (o.GroupCommitMaxEvents is <= 0)
            errors.Add($"Storage:GroupCommitMaxEvents: must be positive (was {o.GroupCommitMaxEvents})");
        if (o.Partitions is < 1 or > 1024)
            errors.Add($"Storage:Partitions: must be between 1 and 1024 (was {o.Partitions})");
        if (o.GroupCommitMaxDelay < TimeSpan.Zero)
            errors.Add($"Storage:GroupCommitMaxDelay: may not be negative (was {o.GroupCommitMaxDelay})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Why the string is no Npgsql connection string; the message never repeats the string (it may hold a password).</summary>
    static string? PostgresConnectionError(string connectionString)
    {
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            return string.IsNullOrWhiteSpace(builder.Host)
                ? "needs Host=... for Postgres (an Npgsql connection string, e.g. Host=db;Database=destinations;Username=...)"
                : null;
        }
        catch (ArgumentException ex)
        {
            return $"is not an Npgsql connection string ({ex.GetType().Name})";
        }
    }
}
