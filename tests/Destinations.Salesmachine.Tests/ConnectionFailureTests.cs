using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Salesmachine;
using Microsoft.Extensions.DependencyInjection;

namespace Destinations.Salesmachine.Tests;

/// <summary>D14: a request that never left (connect refused) is retried in-process, twice, then classified Retry.</summary>
public sealed class ConnectionFailureTests
{
    /// <summary>Sits inside the resilience handler, so it sees every attempt the pipeline makes.</summary>
    sealed class AttemptCounter : DelegatingHandler
    {
        public int Attempts;
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            Interlocked.Increment(ref Attempts);
            return base.SendAsync(request, ct);
        }
    }

    [Fact]
    public async Task Connection_refused_is_retried_twice_then_classified_retry()
    {
        var counter = new AttemptCounter();
        using var host = new TestHost(new Dictionary<string, string?> { ["Salesmachine:ConnectRetryDelay"] = "00:00:00.050" },
            services => services.AddHttpClient<SalesmachineClient>().AddHttpMessageHandler(() => counter));
        var settings = new SalesmachineSettings
        {
            ApiToken = "t", ApiSecret = "s", BaseUrl = new Uri($"http://127.0.0.1:{LoopbackPartner.FreePort()}"),
        };

        var result = await host.Client.SendAsync(
            PartnerRequest.Post("contact", "/v1/contact", new JsonObject { ["contact_uid"] = "u1" }), settings, CancellationToken.None);

        Assert.Equal(AttemptOutcome.Retry, result.Outcome);
        Assert.Null(result.StatusCode);
        Assert.StartsWith("connection error: ", result.Error);
        Assert.Equal(3, counter.Attempts);
    }
}
