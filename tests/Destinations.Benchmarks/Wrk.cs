using System.Diagnostics;
using System.Globalization;

namespace Destinations.Benchmarks;

/// <summary>One wrk run; the Lua scripts print "RESULT requests seconds p50us p99us non2xx socketErrors" in done().</summary>
public sealed record WrkResult(long Requests, double Seconds, double P50Ms, double P99Ms, long Non2xx, long SocketErrors)
{
    public double PerSecond => Requests / Seconds;
    public string Errors => Non2xx + SocketErrors == 0 ? "" : $" ({Non2xx} non-2xx, {SocketErrors} socket errors)";

    public static async Task<WrkResult> RunAsync(string script, string url, BenchOptions o, IReadOnlyDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo("wrk",
            ["-t", o.WrkThreads.ToString(CultureInfo.InvariantCulture), "-c", o.Connections.ToString(CultureInfo.InvariantCulture),
             "-d", $"{o.DurationSeconds}s", "--timeout", "10s", "-s", script, url])
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var wrk = Process.Start(psi) ?? throw new InvalidOperationException("wrk not found: apt-get install -y wrk");
        var stdout = await wrk.StandardOutput.ReadToEndAsync();
        var stderr = await wrk.StandardError.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no RESULT line:\n{stdout}\n{stderr}");
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return new WrkResult((long)f[0], f[1] / 1e6, f[2] / 1000, f[3] / 1000, (long)f[4], (long)f[5]);
    }
}
