using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Destinations.Host.Tests.Support;

/// <summary>
/// The built service (<c>dotnet Destinations.Host.dll</c>) as a child process on a free loopback port, configured by
/// environment variables as an operator would — for what needs a real socket (a browser) or a real process (probe mode,
/// the publish output). Disposing kills it.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly ConcurrentQueue<string> _output = new();

    HostProcess(Process process, Uri baseAddress, string workingDirectory)
    {
        _process = process;
        BaseAddress = baseAddress;
        WorkingDirectory = workingDirectory;
    }

    public Uri BaseAddress { get; }
    public string WorkingDirectory { get; }
    public string Output => string.Join('\n', _output);

    /// <param name="dll">The host to run; the one built beside this test project by default.</param>
    public static async Task<HostProcess> StartAsync(IReadOnlyDictionary<string, string> environment, string? dll = null)
    {
        var port = FreeLoopbackPort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var workingDirectory = Directory.CreateTempSubdirectory("destinations-host-process-").FullName;
        var psi = Run(dll ?? HostDll(), workingDirectory);
        psi.Environment["ASPNETCORE_URLS"] = baseAddress.ToString().TrimEnd('/');
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["Storage__ConnectionString"] = $"Data Source={Path.Combine(workingDirectory, "data", "destinations.db")}";
        foreach (var (k, v) in environment) psi.Environment[k] = v;

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the service");
        var host = new HostProcess(process, baseAddress, workingDirectory);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) host._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) host._output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await host.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        return host;
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

    async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the service exited with code {_process.ExitCode}:\n{Output}");
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

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(WorkingDirectory, recursive: true); } catch (IOException) { }
    }

    public static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The host built beside this test project (same configuration).</summary>
    public static string HostDll()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = Path.Combine(RepositoryRoot(), "src", "Destinations.Host", "bin", configuration, "net10.0", "Destinations.Host.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the host first: {dll} not found");
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Destinations.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Destinations.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A minimal working configuration: one source with a write key, Salesmachine at an address nothing answers.</summary>
    public static Dictionary<string, string> MinimalEnvironment() => new()
    {
        ["Sources__0__Id"] = "web",
        ["Sources__0__WriteKey"] = IngressApp.WebWriteKey,
        ["Destinations__0__Id"] = "sm",
        ["Destinations__0__Type"] = "Salesmachine",
        ["Destinations__0__Settings__ApiToken"] = OperatorApp.ApiToken,
        ["Destinations__0__Settings__ApiSecret"] = OperatorApp.ApiSecret,
        ["Destinations__0__Settings__BaseUrl"] = $"http://127.0.0.1:{FreeLoopbackPort()}",
        ["Logging__Json"] = "true",
    };
}
