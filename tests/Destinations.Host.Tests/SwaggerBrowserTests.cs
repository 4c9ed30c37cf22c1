using Destinations.Host.Tests.Support;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Destinations.Host.Tests;

/// <summary>
/// Swagger UI in a real headless Chromium (Debian's <c>chromium</c>; Playwright with the system browser):
/// authorize with the write key, "Try it out" on POST /v1/track, Execute, see 200. Without Chromium the test fails with the
/// install command (<c>.ci/run</c> installs it): no test is ever skipped.
/// </summary>
public class SwaggerBrowserTests(ITestOutputHelper output)
{
    const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task Swagger_UI_sends_a_track_event_with_Try_it_out_and_shows_200()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run the suite with `bash .ci/run` (it installs Debian's chromium) or apt-get install -y chromium");

        await using var host = await ServiceProcess.StartAsync(HostEnvironments.Minimal());
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 1000 } });
        page.SetDefaultTimeout(30_000);
        await page.GotoAsync(new Uri(host.BaseAddress, "/swagger").ToString());

        // Authorize: the write key as the Basic username (empty password), the writeKey scheme of the ingress.
        await page.ClickAsync("button.authorize");
        var writeKey = page.Locator(".auth-container").Filter(new() { HasText = "writeKey" });
        await writeKey.Locator("input[type=text]").FillAsync(IngressApp.WebWriteKey);
        await writeKey.Locator("button.authorize").ClickAsync();
        await page.ClickAsync("button.btn-done");

        var track = page.Locator("#operations-Ingress-AcceptTrack");
        await track.Locator(".opblock-summary").ClickAsync();
        await track.Locator("button.try-out__btn").ClickAsync();
        await track.Locator("button.execute").ClickAsync();

        var status = track.Locator(".live-responses-table tbody td.response-col_status");
        await Assertions.Expect(status).ToHaveTextAsync("200", new() { Timeout = 15_000 });
        await Assertions.Expect(track.Locator(".live-responses-table tbody td.response-col_description")).ToContainTextAsync("\"success\": true");
        await status.ScrollIntoViewIfNeededAsync();

        var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "swagger-try-it-out-track-200.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new() { Path = screenshot });
        output.WriteLine($"screenshot: {screenshot}");
        Console.WriteLine($"Swagger UI screenshot: {screenshot}");
        Assert.True(new FileInfo(screenshot).Length > 10_000);
    }
}
