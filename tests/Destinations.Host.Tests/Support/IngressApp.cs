using System.Net.Http.Headers;
using System.Text;
using Destinations.Core.Delivery;
using Destinations.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Destinations.Host.Tests.Support;

/// <summary>The host with in-memory configuration (env-var style keys), the recording store and the "Test" destination.</summary>
public class IngressApp(IDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    public const string WebWriteKey = "wk-web-7f3a9c";
    public const string SharedSecret = "test-shared-secret";
    public const string DevWriteKey = "wk-dev-1b2c";

    public static Dictionary<string, string?> TwoSources() => new()
    {
        ["Sources:0:Id"] = "web",
        ["Sources:0:WriteKey"] = WebWriteKey,
        ["Sources:0:SharedSecret"] = SharedSecret,
        ["Sources:1:Id"] = "dev",
        ["Sources:1:WriteKey"] = DevWriteKey,
        ["Sources:1:AllowUnsigned"] = "true",
        ["Destinations:0:Id"] = "test-1",
        ["Destinations:0:Type"] = "Test",
    };

    public RecordingEventStore Store { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings ?? TwoSources()).AddInMemoryCollection(
            new Dictionary<string, string?> { ["Storage:ConnectionString"] = $"Data Source={TempDatabase.NewPath()}" }));
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<IEventStore>();
            services.AddSingleton<IEventStore>(Store);
            services.AddSingleton<IDestinationFactory>(TestDestination.Factory());
        });
    }

    public static AuthenticationHeaderValue Basic(string writeKey) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":")));

    public async Task<HttpResponseMessage> PostAsync(string path, string body, string? writeKey = null, string? signature = null,
        string? contentType = "application/json")
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        return await SendAsync(path, content, writeKey, signature, contentType);
    }

    public async Task<HttpResponseMessage> SendAsync(string path, HttpContent content, string? writeKey = null, string? signature = null,
        string? contentType = "application/json")
    {
        if (contentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (writeKey is not null) request.Headers.Authorization = Basic(writeKey);
        if (signature is not null) request.Headers.Add("X-Signature", signature);
        return await CreateClient().SendAsync(request);
    }
}

/// <summary>The default two-source configuration, shared by a test class (tests use their own messageIds).</summary>
public sealed class DefaultIngressApp() : IngressApp(null);
