using System.Globalization;

namespace Destinations.Benchmarks;

/// <summary>Which store the service under test runs on.</summary>
public enum StoreKind { Sqlite, Postgres }

/// <summary>Command-line options of <c>all</c>.</summary>
public sealed record BenchOptions
{
    /// <summary>The variable the PostgreSQL tests read; the benchmark uses it when <c>--postgres</c> is not given.</summary>
    public const string PostgresVariable = "DESTINATIONS_TEST_POSTGRES";

    public const string Help =
        "usage: Destinations.Benchmarks all [options]\n" +
        "  --duration S        seconds per measured wrk run and per fixed-rate run (10)\n" +
        "  --warmup S          unmeasured warm-up before each measured run, same process and script (20; 0 = none):\n" +
        "                      tiered JIT keeps compiling for ~20 s under load on 2 cores\n" +
        "  --connections N     wrk connections for single-event ingest (64)\n" +
        "  --threads N         wrk threads (2)\n" +
        "  --rate N            fixed offered rate, single events/s (1000)\n" +
        "  --rate-runs N       consecutive measured fixed-rate runs of each service (3; the p99 target holds in all of them)\n" +
        "  --e2e-events N      events posted in the end-to-end run (50000)\n" +
        "  --backlog N         events queued in the backlog-RSS run (1000000)\n" +
        "  --store S           sqlite | postgres | both (both): which stores the service runs on\n" +
        "  --postgres CONN     Npgsql connection string of a PostgreSQL server (default: $" + PostgresVariable + ");\n" +
        "                      every scenario gets a fresh database bench_<pid>_<n>, dropped after it\n" +
        "  --skip a,b          skip scenarios: single,batch,rate,e2e,backlog,filters,stages,ceiling,reference\n" +
        "                      (filters: single and batch ingest without and with a few destination filters on the instance;\n" +
        "                      stages: single and batch again routed nowhere and stored-not-delivered, for the\n" +
        "                      where-the-time-goes table; ceiling: the SQLite store alone, in this process;\n" +
        "                      reference: the naive durable reference's single, batch and fixed-rate runs)\n" +
        "  --ceiling-events N  events the in-process store ceiling reads and stores (300000; a fifth is warm-up)\n" +
        "  --service-env K=V   any service setting as an environment variable (repeatable)\n" +
        "       Destinations.Benchmarks baseline|fake-partner --urls http://127.0.0.1:PORT\n" +
        "       Destinations.Benchmarks reference --urls http://127.0.0.1:PORT --db FILE";

    public int DurationSeconds { get; init; } = 10;
    public int WarmupSeconds { get; init; } = 20;
    public int Connections { get; init; } = 64;
    public int WrkThreads { get; init; } = 2;
    public int Backlog { get; init; } = 1_000_000;
    public int EndToEndEvents { get; init; } = 50_000;
    public int Rate { get; init; } = 1_000;
    /// <summary>Consecutive measured fixed-rate runs of each service: the p99 target must hold in every one.</summary>
    public int RateRuns { get; init; } = 3;
    public int CeilingEvents { get; init; } = 300_000;
    public IReadOnlyList<StoreKind> Stores { get; init; } = [StoreKind.Sqlite, StoreKind.Postgres];
    public string? Postgres { get; init; } = NullIfBlank(Environment.GetEnvironmentVariable(PostgresVariable));
    public HashSet<string> Skip { get; init; } = [];
    public Dictionary<string, string> ServiceEnvironment { get; init; } = [];

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Number() => int.Parse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--duration" => o with { DurationSeconds = Number() },
                "--warmup" => o with { WarmupSeconds = Math.Max(0, Number()) },
                "--connections" => o with { Connections = Number() },
                "--threads" => o with { WrkThreads = Number() },
                "--backlog" => o with { Backlog = Number() },
                "--e2e-events" => o with { EndToEndEvents = Number() },
                "--rate" => o with { Rate = Number() },
                "--rate-runs" => o with { RateRuns = Math.Max(1, Number()) },
                "--ceiling-events" => o with { CeilingEvents = Math.Max(1_000, Number()) },
                "--store" => o with { Stores = ParseStores(Value()) },
                "--postgres" => o with { Postgres = NullIfBlank(Value()) },
                "--skip" => o with { Skip = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries)] },
                "--service-env" => WithEnv(o, Value()),
                var unknown => throw new ArgumentException($"unknown option {unknown}\n{Help}"),
            };
        }
        return o;
    }

    static IReadOnlyList<StoreKind> ParseStores(string value) => value.ToLowerInvariant() switch
    {
        "sqlite" => [StoreKind.Sqlite],
        "postgres" or "postgresql" => [StoreKind.Postgres],
        "both" => [StoreKind.Sqlite, StoreKind.Postgres],
        _ => throw new ArgumentException($"--store expects sqlite, postgres or both, got {value}"),
    };

    static string? NullIfBlank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    static BenchOptions WithEnv(BenchOptions o, string pair)
    {
        var eq = pair.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw new ArgumentException($"--service-env expects KEY=VALUE, got {pair}");
        o.ServiceEnvironment[pair[..eq]] = pair[(eq + 1)..];
        return o;
    }

    public static string Url(string[] args) => Argument(args, "--urls");

    /// <summary>The value after <paramref name="name"/> in a child mode's arguments (required).</summary>
    public static string Argument(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : throw new ArgumentException($"{name} is required");
    }

    public static string Name(StoreKind store) => store == StoreKind.Postgres ? "PostgreSQL" : "SQLite";
}
