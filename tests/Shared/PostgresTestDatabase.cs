namespace Destinations.Testing;

/// <summary>
/// The PostgreSQL the tests run against: <c>DESTINATIONS_TEST_POSTGRES</c> (an Npgsql connection string; <c>.ci/run</c> starts
/// one on loopback and sets it). Without it the PostgreSQL tests fail with this reason: no test is ever skipped, so a green
/// run always includes the PostgreSQL provider. Each store gets its own schema (SearchPath), so tests never see each other's rows and run in parallel.
/// </summary>
public static class PostgresTestDatabase
{
    public const string Variable = "DESTINATIONS_TEST_POSTGRES";

    public static string ConnectionString
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(Variable);
            if (!string.IsNullOrWhiteSpace(value)) return value;
            throw new InvalidOperationException(
                $"{Variable} is not set: the PostgreSQL storage tests need a PostgreSQL; run the suite with `bash .ci/run`, which starts one on loopback and sets it");
        }
    }

    /// <summary>A connection string on a fresh, uniquely named schema (created by the migrations).</summary>
    public static string NewSchema(out string schema)
    {
        schema = "t_" + Guid.NewGuid().ToString("N")[..16];
        return $"{ConnectionString};Search Path={schema}";
    }
}
