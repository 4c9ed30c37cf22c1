using Destinations.Host.Tests.Support;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Destinations.Host.Tests;

/// <summary>The console's authentication runs for every path but the ingress's: an ingested request carries its own
/// credentials, and the middleware costs each one a service scope and two state machines.</summary>
public class IngressPipelineTests
{
    sealed class CountingSchemes(IOptions<AuthenticationOptions> options) : AuthenticationSchemeProvider(options)
    {
        int _asked;
        public int Asked => Volatile.Read(ref _asked);

        // The authentication middleware asks this on every request it sees.
        public override Task<IEnumerable<AuthenticationScheme>> GetRequestHandlerSchemesAsync()
        {
            Interlocked.Increment(ref _asked);
            return base.GetRequestHandlerSchemesAsync();
        }
    }

    [Fact]
    public async Task Ingress_requests_skip_the_authentication_middleware_and_other_paths_go_through_it()
    {
        using var ingress = new IngressApp();
        using var app = ingress.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IAuthenticationSchemeProvider>(
            sp => new CountingSchemes(sp.GetRequiredService<IOptions<AuthenticationOptions>>()))));
        var schemes = (CountingSchemes)app.Services.GetRequiredService<IAuthenticationSchemeProvider>();
        var client = app.CreateClient();

        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/track")
        {
            Content = new StringContent("""{"userId":"u1","event":"E","messageId":"pipeline-1"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = IngressApp.Basic(IngressApp.WebWriteKey);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        Assert.Equal(0, schemes.Asked);

        await client.GetAsync("/health/live");
        Assert.True(schemes.Asked > 0, "a request outside the ingress went through the authentication middleware");
    }
}
