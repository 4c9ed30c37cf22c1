using System.Globalization;

namespace Destinations.Benchmarks;

/// <summary>Command-line options of <c>all</c>.</summary>
public sealed record BenchOptions
{
    public int DurationSeconds { get; init; } = 10;
    public int Connections { get; init; } = 64;
    public int WrkThreads { get; init; } = 2;
    public int Backlog { get; init; } = 1_000_000;
    public int EndToEndEvents { get; init; } = 50_000;
    public int Rate { get; init; } = 1_000;
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
                "--connections" => o with { Connections = Number() },
                "--threads" => o with { WrkThreads = Number() },
                "--backlog" => o with { Backlog = Number() },
                "--e2e-events" => o with { EndToEndEvents = Number() },
                "--rate" => o with { Rate = Number() },
                "--skip" => o with { Skip = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries)] },
                "--service-env" => WithEnv(o, Value()),
                var unknown => throw new ArgumentException($"unknown option {unknown}"),
            };
        }
        return o;
    }

    static BenchOptions WithEnv(BenchOptions o, string pair)
    {
        var eq = pair.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw new ArgumentException($"--service-env expects KEY=VALUE, got {pair}");
        o.ServiceEnvironment[pair[..eq]] = pair[(eq + 1)..];
        return o;
    }

    public static string Url(string[] args)
    {
        var at = Array.IndexOf(args, "--urls");
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : throw new ArgumentException("--urls is required");
    }
}
