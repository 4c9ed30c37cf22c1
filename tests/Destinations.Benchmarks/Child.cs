using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Destinations.Benchmarks;

/// <summary>A child process (baseline, fake partner or the service) on a loopback port, its output in a log file.</summary>
public sealed class Child : IDisposable
{
    readonly Process _process;

    Child(Process process, string url, string log)
    {
        _process = process;
        Url = url;
        LogFile = log;
    }

    public string Url { get; }
    public string LogFile { get; }
    public int Pid => _process.Id;

    /// <summary>Starts <c>dotnet dll args</c> through <c>bash -c exec</c> so output goes straight to a file (the pid stays the same).
    /// bash, not sh: dash (Debian's sh) drops environment variables whose names are not shell identifiers, and settings keyed
    /// on an instance id hold one (<c>Delivery__RateLimits__salesmachine-bench__Limit</c>), so they never reached the service.</summary>
    public static async Task<Child> StartAsync(string name, string dll, string args, IReadOnlyDictionary<string, string> env, string workDir, string readyPath)
    {
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var log = Path.Combine(workDir, name + ".log");
        var psi = new ProcessStartInfo("/bin/bash", ["-c", $"exec dotnet \"{dll}\" {args.Replace("{url}", url, StringComparison.Ordinal)} > \"{log}\" 2>&1"])
        {
            WorkingDirectory = workDir,
            UseShellExecute = false,
        };
        psi.Environment["ASPNETCORE_URLS"] = url;
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (k, v) in env) psi.Environment[k] = v;
        var child = new Child(Process.Start(psi)!, url, log);
        await child.WaitReadyAsync(readyPath);
        return child;
    }

    async Task WaitReadyAsync(string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited) throw new InvalidOperationException($"{LogFile}: exited with {_process.ExitCode}\n{Tail()}");
            try
            {
                using var r = await http.GetAsync(Url + path);
                if (r.StatusCode != HttpStatusCode.ServiceUnavailable) return; // anything but "not ready" means Kestrel is up
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{LogFile}: not ready within 60 s\n{Tail()}");
    }

    public string Tail() => File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(20)) : "";

    /// <summary>VmRSS and VmHWM (peak) in MiB.</summary>
    public (double Rss, double Peak) Memory()
    {
        double rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kib(line) / 1024.0;
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kib(line) / 1024.0;
        }
        return (rss, peak);
        static long Kib(string line) => long.Parse(line.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>CPU seconds (user + system) the process used so far.</summary>
    public double CpuSeconds()
    {
        _process.Refresh();
        return _process.TotalProcessorTime.TotalSeconds;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) { _process.Kill(entireProcessTree: true); _process.WaitForExit(10_000); }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }

    static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
