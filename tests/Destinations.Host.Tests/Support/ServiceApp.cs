using System.Net.Http.Headers;
using System.Text;
using Destinations.Core.Storage;
using Destinations.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Destinations.Host.Tests.Support;

/// <summary>
/// The whole service as configured in production — real SQLite store (a temp file), real dispatcher, real Salesmachine client —
/// pointed at a fake partner URL. Only the delays are compressed (D13: every delay is configurable).
/// </summary>
public sealed class ServiceApp(string partnerUrl, IDictionary<string, string?>? extra = null, string destinationId = ServiceApp.DestinationId)
    : WebApplicationFactory<Program>
{
    public const string WriteKey = "wk-service-5d1e";
    public const string ApiToken = "sm-token-3c9f";
    public const string ApiSecret = "sm-secret-8a2b";
    public const string DestinationId = "salesmachine-main";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = $"Data Source={TempDatabase.NewPath()}",
            ["Sources:0:Id"] = "web",
            ["Sources:0:WriteKey"] = WriteKey,
            ["Destinations:0:Id"] = DestinationId,
            ["Destinations:0:Type"] = "Salesmachine",
            ["Destinations:0:Settings:ApiToken"] = ApiToken,
            ["Destinations:0:Settings:ApiSecret"] = ApiSecret,
            ["Destinations:0:Settings:BaseUrl"] = partnerUrl,
            ["Delivery:BaseDelay"] = "00:00:00.050",
            ["Delivery:MaxDelay"] = "00:00:00.200",
            ["Delivery:PollInterval"] = "00:00:00.100",
            ["Salesmachine:AttemptTimeout"] = "00:00:05",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) settings[k] = v;
        builder.UseEnvironment("Production");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
    }

    public async Task<HttpResponseMessage> SendAsync(string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":")));
        return await CreateClient().SendAsync(request);
    }

    public Task<DestinationStats> StatsAsync() =>
        Services.GetRequiredService<IDeliveryQueue>().GetStatsAsync(destinationId, CancellationToken.None);

    public const string SelligentId = "smc-main";
    public const string SelligentApiKey = "smc-key-2b7a";
    public const string SelligentApiSecret = "smc-secret-9f4c";

    /// <summary>The service with one Selligent Marketing Cloud instance; the SSRF guard widened to the loopback fake (D19).</summary>
    public static ServiceApp ForSelligent(string partnerUrl, params string[] allowedEvents) =>
        ForSelligent(partnerUrl, new Dictionary<string, string?>(), allowedEvents);

    /// <summary>As above, with more settings (added or replacing).</summary>
    public static ServiceApp ForSelligent(string partnerUrl, IDictionary<string, string?> settings, params string[] allowedEvents)
    {
        var extra = new Dictionary<string, string?>
        {
            ["Selligent:AdminHostAllowList:0"] = "localhost",
            ["Selligent:AdminHostAllowList:1"] = "127.0.0.1",
            ["Selligent:AllowHttp"] = "true",
            ["Destinations:0:Id"] = SelligentId,
            ["Destinations:0:Type"] = "SelligentMarketingCloud",
            ["Destinations:0:Settings:ApiToken"] = null,
            ["Destinations:0:Settings:ApiSecret"] = SelligentApiSecret,
            ["Destinations:0:Settings:BaseUrl"] = null,
            ["Destinations:0:Settings:ApiKey"] = SelligentApiKey,
            ["Destinations:0:Settings:SmcAdminUrl"] = partnerUrl,
            ["Destinations:0:Settings:Organization"] = "ACME",
            ["Destinations:0:Settings:SendGroupEvents"] = "true",
        };
        for (var i = 0; i < allowedEvents.Length; i++) extra[$"Destinations:0:Settings:AllowedEvents:{i}"] = allowedEvents[i];
        foreach (var (k, v) in settings) extra[k] = v;
        return new ServiceApp(partnerUrl, extra, SelligentId);
    }

    public const string UserMotionId = "usermotion-main";
    public const string UserMotionApiKey = "um-key-6e0d";

    /// <summary>The service with one UserMotion (Actions) instance instead of Salesmachine; presets unless a mappings file is given.</summary>
    public static ServiceApp ForUserMotion(string partnerUrl, string? mappingsFile = null, IDictionary<string, string?>? settings = null)
    {
        var extra = new Dictionary<string, string?>
        {
            ["Destinations:0:Id"] = UserMotionId,
            ["Destinations:0:Type"] = "UserMotion",
            ["Destinations:0:Settings:ApiToken"] = null,
            ["Destinations:0:Settings:ApiSecret"] = null,
            ["Destinations:0:Settings:BaseUrl"] = partnerUrl,
            ["Destinations:0:Settings:ApiKey"] = UserMotionApiKey,
            ["Destinations:0:MappingsFile"] = mappingsFile,
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) extra[k] = v;
        return new ServiceApp(partnerUrl, extra, UserMotionId);
    }

    /// <summary>Polls until <paramref name="condition"/> holds (deliveries are asynchronous); false after the timeout.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < until)
        {
            if (await condition()) return true;
            await Task.Delay(50);
        }
        return await condition();
    }
}
