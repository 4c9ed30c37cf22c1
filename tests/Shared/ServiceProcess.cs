using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Destinations.Testing;

/// <summary>
/// The real service (<c>dotnet Destinations.Host.dll</c>) as a child process on a free loopback port, configured by environment
/// variables exactly as an operator would — for what needs a real process: SIGKILL (crash tests), a real socket (a browser),
/// probe mode, the publish output. Shared by the test projects as a linked file. Disposing kills it.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    /// <summary>Lines of output kept (the torture runs log a lot: the tail is what diagnoses a failure).</summary>
    const int KeptLines = 2000;

    readonly Process _process;
    readonly ConcurrentQueue<string> _output = new();
    readonly string? _ownedDirectory;

    ServiceProcess(Process process, Uri baseAddress, string workingDirectory, string? ownedDirectory)
    {
        _process = process;
        BaseAddress = baseAddress;
        WorkingDirectory = workingDirectory;
        _ownedDirectory = ownedDirectory;
    }

    public Uri BaseAddress { get; }
    public string WorkingDirectory { get; }
    public int Pid => _process.Id;
    public bool IsAlive => !_process.HasExited;

    /// <summary>What the service printed (stdout and stderr; the last <see cref="KeptLines"/> lines).</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Resident set size (VmRSS of /proc/&lt;pid&gt;/status) in KiB.</summary>
    public long RssKib()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        throw new InvalidOperationException("no VmRSS line");
    }

    /// <param name="workingDirectory">Where the service runs; a fresh temp folder (removed on dispose, holding the SQLite file
    /// unless the environment names another) when null.</param>
    /// <param name="dll">The host to run; the one built beside the calling test project by default.</param>
    public static async Task<ServiceProcess> StartAsync(IReadOnlyDictionary<string, string> environment, string? workingDirectory = null,
        string? dll = null, TimeSpan? readyTimeout = null)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{FreeLoopbackPort()}");
        var owned = workingDirectory is null ? Directory.CreateTempSubdirectory("destinations-service-").FullName : null;
        var directory = workingDirectory ?? owned!;
        var psi = Run(dll ?? HostDll(), directory);
        psi.Environment["ASPNETCORE_URLS"] = baseAddress.ToString().TrimEnd('/');
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["Storage__ConnectionString"] = $"Data Source={Path.Combine(directory, "data", "destinations.db")}";
        foreach (var (k, v) in environment) psi.Environment[k] = v;

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the service");
        var service = new ServiceProcess(process, baseAddress, directory, owned);
        process.OutputDataReceived += (_, e) => service.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await service.WaitUntilReadyAsync(readyTimeout ?? TimeSpan.FromSeconds(60));
        return service;
    }

    /// <summary>Runs <c>dotnet Destinations.Host.dll args…</c> to completion (probe mode); returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IEnumerable<string> args, string? dll = null, TimeSpan? timeout = null)
    {
        var psi = Run(dll ?? HostDll(), Path.GetTempPath());
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, (await stdout + await stderr).Trim());
    }

    static ProcessStartInfo Run(string dll, string workingDirectory) => new("dotnet", [dll])
    {
        WorkingDirectory = workingDirectory,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
        Environment = { ["DOTNET_NOLOGO"] = "1" },
    };

    void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > KeptLines) _output.TryDequeue(out _);
    }

    async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
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

    public ValueTask DisposeAsync()
    {
        KillHard();
        _process.Dispose();
        if (_ownedDirectory is not null)
            try { Directory.Delete(_ownedDirectory, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }

    public static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The host built beside the calling test project (same configuration), found from the repository root.</summary>
    public static string HostDll()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = Path.Combine(Repository.Root(), "src", "Destinations.Host", "bin", configuration, "net10.0", "Destinations.Host.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the host first: {dll} not found");
    }
}
