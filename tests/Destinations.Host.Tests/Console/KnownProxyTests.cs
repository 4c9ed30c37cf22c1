using System.Net;
using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>X-Forwarded-For is believed only from a configured known proxy: the audit log and the sign-in limit use it then,
/// and the socket's address otherwise (the service as a child process: a real loopback connection).</summary>
public sealed class KnownProxyTests
{
    const string AdminKey = "known-proxy-admin-key-5e2a";

    static Task<ServiceProcess> StartAsync(bool trustLoopback)
    {
        var env = HostEnvironments.Minimal();
        env["Admin__ApiKey"] = AdminKey;
        env["Console__SignInAttemptsPerMinute"] = "2";
        if (trustLoopback) env["ForwardedHeaders__KnownProxies__0"] = "127.0.0.1";
        return ServiceProcess.StartAsync(env);
    }

    static ConsoleClient Client(ServiceProcess service, string forwardedFor)
    {
        var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new() }) { BaseAddress = service.BaseAddress };
        http.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        return new ConsoleClient(http);
    }

    [Fact]
    public async Task The_forwarded_client_address_counts_only_from_a_known_proxy()
    {
        await using (var trusted = await StartAsync(trustLoopback: true))
        {
            var client = Client(trusted, "203.0.113.7");
            Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync(AdminKey)).StatusCode);
            await client.PostFormAsync("/console/destinations/sm?handler=Resume", "/console/destinations/sm");
            Assert.Contains("<td>203.0.113.7</td>", await client.Http.GetStringAsync("/console/audit"));

            // The sign-in limit is per forwarded client: one client spending its budget leaves another's intact.
            var noisy = Client(trusted, "198.51.100.1");
            for (var i = 0; i < 2; i++) await noisy.SignInAsync("wrong-key-" + i);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await noisy.SignInAsync("wrong-key-x")).StatusCode);
            Assert.Equal(HttpStatusCode.Redirect, (await Client(trusted, "198.51.100.2").SignInAsync(AdminKey)).StatusCode);
        }

        await using var untrusted = await StartAsync(trustLoopback: false);
        var spoofing = Client(untrusted, "203.0.113.7");
        Assert.Equal(HttpStatusCode.Redirect, (await spoofing.SignInAsync(AdminKey)).StatusCode);
        await spoofing.PostFormAsync("/console/destinations/sm?handler=Resume", "/console/destinations/sm");
        var audit = await spoofing.Http.GetStringAsync("/console/audit");
        Assert.Contains("<td>127.0.0.1</td>", audit);
        Assert.DoesNotContain("203.0.113.7", audit);
    }
}
