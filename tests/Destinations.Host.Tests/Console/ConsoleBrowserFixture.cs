using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// The service from its <c>dotnet publish</c> output (as the Docker image runs it: the console's files must come with it),
/// as a child process on SQLite, with Salesmachine and UserMotion instances pointed at a WireMock partner; and a headless
/// Debian Chromium driven by Playwright (the system browser, as the Swagger UI test does).
/// </summary>
public sealed class ConsoleBrowserFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";
    public const string AdminKey = "console-admin-key-4b7e9d21";
    public const string WriteKey = "console-write-key-8c1f";

    string _publish = "";
    IPlaywright? _playwright;

    public WireMockServer Partner { get; } = WireMockServer.Start();
    public ServiceProcess Service { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string Screenshots { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run the suite with `bash .ci/run` (it installs Debian's chromium) or apt-get install -y chromium");
        Partner.Given(Request.Create().UsingAnyMethod()).AtPriority(100).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));

        _publish = Directory.CreateTempSubdirectory("destinations-console-publish-").FullName;
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var project = Path.Combine(Repository.Root(), "src", "Destinations.Host", "Destinations.Host.csproj");
        // --no-build: the host this test project was built with, laid out as publish lays it out.
        var (code, log) = await RunAsync("dotnet", ["publish", project, "-c", configuration, "--no-build", "-o", _publish, "--nologo", "-v", "q"]);
        Assert.True(code == 0, log);

        Service = await ServiceProcess.StartAsync(new Dictionary<string, string>
        {
            ["Sources__0__Id"] = "web",
            ["Sources__0__WriteKey"] = WriteKey,
            ["Destinations__0__Id"] = "sm",
            ["Destinations__0__Type"] = "Salesmachine",
            ["Destinations__0__Settings__ApiToken"] = "console-sm-token-11",
            ["Destinations__0__Settings__ApiSecret"] = "console-sm-secret-22",
            ["Destinations__0__Settings__BaseUrl"] = Partner.Url!,
            ["Destinations__1__Id"] = "um",
            ["Destinations__1__Type"] = "UserMotion",
            ["Destinations__1__Settings__ApiKey"] = "console-um-key-33",
            ["Destinations__1__Settings__BaseUrl"] = Partner.Url!,
            ["Admin__ApiKey"] = AdminKey,
            ["Delivery__BaseDelay"] = "00:00:00.200",
            ["Delivery__MaxDelay"] = "00:00:01",
            ["Delivery__PollInterval"] = "00:00:00.200",
            ["Salesmachine__ConnectRetries"] = "0",
        }, dll: Path.Combine(_publish, "Destinations.Host.dll"));
        Http = new HttpClient { BaseAddress = Service.BaseAddress };

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(Screenshots);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        Http?.Dispose();
        if (Service is not null) await Service.DisposeAsync();
        Partner.Stop();
        try { Directory.Delete(_publish, recursive: true); } catch (IOException) { }
    }

    /// <summary>Sends one event to the ingress as a Segment library would (write key as the Basic user).</summary>
    public async Task SendAsync(string call, JsonObject body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/{call}")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":")));
        using var response = await Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{call}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The dead letters of <paramref name="destination"/> through the admin API (bearer key), to wait for one.</summary>
    public async Task<JsonArray> DeadLettersAsync(string destination)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/admin/dead-letters?destination={destination}&limit=1000");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        using var response = await Http.SendAsync(request);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["items"]!.AsArray();
    }

    public async Task WaitForDeadAsync(string destination, params string[] messageIds)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < until)
        {
            var dead = (await DeadLettersAsync(destination)).Select(d => (string?)d!["messageId"]).ToHashSet();
            if (messageIds.All(dead.Contains)) return;
            await Task.Delay(200);
        }
        Assert.Fail($"not dead letters of {destination} within 60 s: {string.Join(", ", messageIds)}\n{Service.Output}");
    }

    /// <summary>A new browser page, signed in to the console, that records dialogs, CSP violations and an XSS marker.</summary>
    public async Task<WatchedPage> SignedInPageAsync()
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var watched = new WatchedPage(page);
        await page.GotoAsync(Url("/console"));
        await page.FillAsync("#key", AdminKey);
        await page.ClickAsync("#sign-in");
        await Assertions.Expect(page.Locator("#instances")).ToBeVisibleAsync();
        return watched;
    }

    public string Url(string path) => new Uri(Service.BaseAddress, path).ToString();

    public async Task ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(Screenshots, $"console-{name}.png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 5_000, path);
        System.Console.WriteLine($"console screenshot: {path}");
    }

    static async Task<(int, string)> RunAsync(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>A page whose dialogs and Content-Security-Policy violations are recorded: an injected handler that ran would open
/// a dialog or set <c>window.__xss</c>; one that the encoding let through as markup would be blocked by the CSP and reported.</summary>
public sealed class WatchedPage
{
    public WatchedPage(IPage page)
    {
        Page = page;
        page.Dialog += async (_, dialog) =>
        {
            Dialogs.Add(dialog.Message);
            await dialog.DismissAsync();
        };
        page.AddInitScriptAsync("""
            window.__cspViolations = [];
            document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
            """).GetAwaiter().GetResult();
    }

    public IPage Page { get; }
    public List<string> Dialogs { get; } = [];

    public async Task AssertNothingRanAsync()
    {
        Assert.Empty(Dialogs);
        Assert.True(await Page.EvaluateAsync<bool>("() => typeof window.__xss === 'undefined'"), "an injected script ran");
        Assert.Equal("[]", await Page.EvaluateAsync<string>("() => JSON.stringify(window.__cspViolations)"));
        Assert.Equal(0, await Page.Locator("main img").CountAsync());
    }
}
