namespace Destinations.Testing;

/// <summary>
/// The PostgreSQL the tests run against: <c>DESTINATIONS_TEST_POSTGRES</c> (an Npgsql connection string; <c>.ci/run</c> starts
/// one on loopback and sets it). D24: without it the PostgreSQL tests are skipped with this reason, except under CI=true,
/// where they fail. Each store gets its own schema (SearchPath), so tests never see each other's rows and run in parallel.
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
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"{Variable} is not set: under CI=true the PostgreSQL storage tests must run (D24)");
            Skip.If(true, $"{Variable} is not set: start PostgreSQL on loopback (see .ci/run) to run the PostgreSQL storage tests");
            return "";
        }
    }

    /// <summary>A connection string on a fresh, uniquely named schema (created by the migrations).</summary>
    public static string NewSchema(out string schema)
    {
        schema = "t_" + Guid.NewGuid().ToString("N")[..16];
        return $"{ConnectionString};Search Path={schema}";
    }
}
