using Microsoft.Extensions.Options;

namespace Destinations.Storage;

/// <summary>The <c>Storage</c> configuration section.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string SqliteProvider = "Sqlite";

    /// <summary>Which store this service uses. This build has only <c>Sqlite</c> (PostgreSQL comes in a later issue).</summary>
    public string Provider { get; set; } = SqliteProvider;

    /// <summary>The folder of the file is created when missing (D27).</summary>
    public string ConnectionString { get; set; } = "Data Source=data/destinations.db";

    /// <summary>How long (sourceId, messageId) is remembered to drop duplicates (D5).</summary>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Group commit: at most this many events share one transaction.</summary>
    public int GroupCommitMaxEvents { get; set; } = 256;

    /// <summary>Group commit: how long the writer waits for more events before it commits what it has.</summary>
    public TimeSpan GroupCommitMaxDelay { get; set; } = TimeSpan.FromMilliseconds(2);
}

/// <summary>Start-up validation of <see cref="StorageOptions"/>: every message names its key and the rule.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions o)
    {
        var errors = new List<string>();
        if (!string.Equals(o.Provider, StorageOptions.SqliteProvider, StringComparison.OrdinalIgnoreCase))
            errors.Add($"Storage:Provider: '{o.Provider}' is not available in this build (available: {StorageOptions.SqliteProvider}; PostgreSQL comes in a later issue)");
        if (string.IsNullOrWhiteSpace(o.ConnectionString))
            errors.Add("Storage:ConnectionString: is required");
        if (o.DedupeWindow <= TimeSpan.Zero)
            errors.Add($"Storage:DedupeWindow: must be positive (was {o.DedupeWindow})");
        if (o.GroupCommitMaxEvents <= 0)
            errors.Add($"Storage:GroupCommitMaxEvents: must be positive (was {o.GroupCommitMaxEvents})");
        if (o.GroupCommitMaxDelay < TimeSpan.Zero)
            errors.Add($"Storage:GroupCommitMaxDelay: may not be negative (was {o.GroupCommitMaxDelay})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
