using System.Diagnostics;

namespace Destinations.EndToEnd.Tests;

/// <summary>
/// A pinned Node.js client package in its own folder (package.json + package-lock.json, copied beside the test assembly),
/// installed with <c>npm ci</c> once per test run. One folder per client, so two tests never run <c>npm ci</c> in one folder.
/// No test is ever skipped: without node/npm it fails and says how to get them.
/// </summary>
sealed class NodeClient(string folderName, string installedPackage)
{
    /// <summary>The official <c>@segment/analytics-node</c> (node/).</summary>
    public static readonly NodeClient AnalyticsNode = new("node", Path.Combine("@segment", "analytics-node"));
    /// <summary>RudderStack's <c>@rudderstack/rudder-sdk-node</c> (node-rudderstack/).</summary>
    public static readonly NodeClient RudderStack = new("node-rudderstack", Path.Combine("@rudderstack", "rudder-sdk-node"));

    Lazy<string>? _folder;

    /// <summary>The installed folder, to run a script in with <see cref="RunAsync"/>.</summary>
    public string Prepare()
    {
        if (!(Which("node") && Which("npm")))
            throw new InvalidOperationException("node/npm not installed: run the suite with `bash .ci/run` (it installs them) or apt-get install nodejs npm");
        return LazyInitializer.EnsureInitialized(ref _folder, () => new Lazy<string>(Install)).Value;
    }

    string Install()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, folderName);
        if (!Directory.Exists(Path.Combine(folder, "node_modules", installedPackage)))
        {
            var (exit, text) = Run(folder, "npm", ["ci", "--no-audit", "--no-fund"]).GetAwaiter().GetResult();
            if (exit != 0) throw new InvalidOperationException("npm ci failed: " + text);
        }
        return folder;
    }

    public static Task<(int Exit, string Output)> RunAsync(string folder, string script, params string[] args) =>
        Run(folder, "node", [script, .. args]);

    static async Task<(int Exit, string Output)> Run(string workingDirectory, string file, string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout + await stderr);
    }

    static bool Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));
}
