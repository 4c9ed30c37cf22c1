using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Destinations.Webhook.Tests;

/// <summary>
/// Segment's published Webhooks (Actions) destination (npm <c>@segment/action-destinations</c>, pinned with its lock file in
/// reference/), installed with <c>npm ci</c> once per run beside the test assembly, and run by reference/send.cjs with a fetch
/// that records requests instead of sending them. No test is skipped: without node/npm it fails and says how to get them (D24).
/// </summary>
static class SegmentReference
{
    static readonly Lazy<string> Folder = new(Install);

    static string Install()
    {
        if (!(Which("node") && Which("npm")))
            throw new InvalidOperationException("node/npm not installed: run the suite with `bash .ci/run` (it installs them) or apt-get install nodejs npm");
        var folder = Path.Combine(AppContext.BaseDirectory, "reference");
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "@segment", "action-destinations")))
        {
            var (exit, text) = Run(folder, "npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts"], null);
            if (exit != 0) throw new InvalidOperationException("npm ci failed: " + text);
        }
        return folder;
    }

    /// <summary>Runs every case in one node process; one result per case: <c>{requests: [{url, method, headers, body}], error?}</c>.</summary>
    public static JsonArray Run(JsonArray cases) => Run("send.cjs", cases);

    /// <summary>Runs one of the reference scripts (send.cjs, triggers.cjs) over the cases; one result per case.</summary>
    public static JsonArray Run(string script, JsonArray cases)
    {
        var (exit, output) = Run(Folder.Value, "node", [script], cases.ToJsonString());
        if (exit != 0) throw new InvalidOperationException("the reference failed: " + output);
        return JsonNode.Parse(output)!.AsArray();
    }

    static (int Exit, string Output) Run(string workingDirectory, string file, string[] args, string? stdin)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = workingDirectory, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(entireProcessTree: true); throw new TimeoutException($"{file} did not finish"); }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + (p.ExitCode != 0 ? stderr.Result : ""));
    }

    static bool Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));
}
