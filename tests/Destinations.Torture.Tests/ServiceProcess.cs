using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Destinations.Torture.Tests;

/// <summary>
/// Copied from Destinations.EndToEnd.Tests (plus Pid, IsAlive and RSS).
/// The real service (Destinations.Host.dll) as a child process on a free loopback port, configured by environment variables
/// exactly as an operator would. A child process, not WebApplicationFactory, so that a test can kill it with SIGKILL.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly ConcurrentQueue<string> _output = new();

    ServiceProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int Pid => _process.Id;

    public bool IsAlive => !_process.HasExited;

    /// <summary>Resident set size (VmRSS of /proc/&lt;pid&gt;/status) in KiB.</summary>
    public long RssKib()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        throw new InvalidOperationException("no VmRSS line");
    }

    /// <summary>The last lines the service printed (stdout and stderr), for diagnostics.</summary>
    public string Output => string.Join('\n', _output.TakeLast(60));

    public static async Task<ServiceProcess> StartAsync(IReadOnlyDictionary<string, string> environment, string workingDirectory, TimeSpan? readyTimeout = null)
    {
        var port = FreeLoopbackPort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var psi = new ProcessStartInfo("dotnet", [HostDll()])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["ASPNETCORE_URLS"] = baseAddress.ToString().TrimEnd('/');
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (k, v) in environment) psi.Environment[k] = v;

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the service");
        var service = new ServiceProcess(process, baseAddress);
        process.OutputDataReceived += (_, e) => service.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        await service.WaitUntilReadyAsync(readyTimeout ?? TimeSpan.FromSeconds(60));
        return service;
    }

    void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > 500) _output.TryDequeue(out _); // the torture runs log a lot: keep the tail only
    }

    async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the service exited with code {_process.ExitCode} before it was ready:\n{Output}");
            try
            {
                using var response = await http.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the service was not ready within {timeout}:\n{Output}");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing — what a crash or an OOM kill does.</summary>
    public void KillHard()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public async ValueTask DisposeAsync()
    {
        KillHard();
        _process.Dispose();
        await Task.CompletedTask;
    }

    static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The host built beside this test project (same configuration), found from the repository root.</summary>
    static string HostDll()
    {
        var baseDir = AppContext.BaseDirectory; // …/tests/Destinations.EndToEnd.Tests/bin/<Configuration>/net10.0/
        var configuration = new DirectoryInfo(baseDir.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var root = RepositoryRoot();
        var dll = Path.Combine(root, "src", "Destinations.Host", "bin", configuration, "net10.0", "Destinations.Host.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the host first: {dll} not found");
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Destinations.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Destinations.sln not found above " + AppContext.BaseDirectory);
    }
}
