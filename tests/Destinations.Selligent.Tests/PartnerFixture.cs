using Destinations.Core.Delivery;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using static Destinations.Selligent.Tests.TestEvents;

namespace Destinations.Selligent.Tests;

/// <summary>
/// A loopback WireMock SMC and a destination built through AddSelligent with the SSRF guard widened to 127.0.0.1 + http,
/// as a sandbox would (docs/partners/selligent.md "Settings").
/// </summary>
sealed class PartnerFixture : IDisposable
{
    public WireMockServer Partner { get; } = LoopbackPartner.Start();
    public TestHost Host { get; }
    public SelligentDestination Destination { get; }

    public PartnerFixture(string attemptTimeout = "00:00:05", Action<IServiceCollection>? extra = null, int maxRowsPerLoad = 1000,
        params string[] groupSegments)
    {
        var config = new Dictionary<string, string?>
        {
            ["Selligent:AdminHostAllowList:0"] = "127.0.0.1",
            ["Selligent:AllowHttp"] = "true",
            ["Selligent:AttemptTimeout"] = attemptTimeout,
            ["Selligent:MaxRowsPerLoad"] = maxRowsPerLoad.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Destinations:0:Id"] = "smc-main",
            ["Destinations:0:Type"] = "SelligentMarketingCloud",
            ["Destinations:0:Settings:ApiKey"] = Key,
            ["Destinations:0:Settings:ApiSecret"] = Secret,
            // A trailing slash on purpose: paths must still be /Portal/Api/...
            ["Destinations:0:Settings:SmcAdminUrl"] = $"http://127.0.0.1:{Partner.Port}/",
            ["Destinations:0:Settings:Organization"] = "ACME",
            ["Destinations:0:Settings:AllowedEvents:0"] = "Order Completed",
            ["Destinations:0:Settings:SendGroupEvents"] = "true",
        };
        for (var i = 0; i < groupSegments.Length; i++) config[$"Destinations:0:Settings:GroupSegments:{i}"] = groupSegments[i];
        Host = new TestHost(config, extra);
        var built = Host.Create();
        Assert.Empty(built.Errors);
        Destination = (SelligentDestination)built.Destination!;
    }

    public void Answer(int status, string? body = null, params (string Name, string Value)[] headers) =>
        Answer(Request.Create().UsingAnyMethod(), status, body, TimeSpan.Zero, headers);

    public void Answer(IRequestBuilder request, int status, string? body, TimeSpan delay, params (string Name, string Value)[] headers)
    {
        var response = Response.Create().WithStatusCode(status);
        if (body is not null) response = response.WithBody(body);
        if (delay > TimeSpan.Zero) response = response.WithDelay(delay);
        foreach (var (name, value) in headers) response = response.WithHeader(name, value);
        Partner.Given(request).RespondWith(response);
    }

    public PartnerRequest[] Plan(string fixture)
    {
        var e = FromFixture(fixture);
        var plan = Destination.Map(e, e.Type);
        Assert.Equal(MappingOutcome.Send, plan.Outcome);
        return [.. plan.Requests];
    }

    public void Dispose()
    {
        Host.Dispose();
        Partner.Stop();
        Partner.Dispose();
    }
}
