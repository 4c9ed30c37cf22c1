using System.Text;
using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.EndToEnd.Tests;

/// <summary>
/// An identify sent with the official @segment/analytics-node client (host pointed at the service,
/// write key configured) reaches a fake Salesmachine as POST /v1/contact with the right body and auth.
/// </summary>
public sealed class AnalyticsNodeTests
{
    [Fact]
    public async Task Identify_from_the_official_node_client_reaches_Salesmachine_as_a_contact()
    {
        var npm = NodeClient.AnalyticsNode.Prepare();

        using var partner = WireMockServer.Start();
        partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        var data = E2eEnvironment.NewDataDirectory();
        await using var service = await ServiceProcess.StartAsync(E2eEnvironment.SalesmachineService(data, partner.Url!), data);

        var (exit, text) = await NodeClient.RunAsync(npm, "send-identify.mjs",
            service.BaseAddress.ToString().TrimEnd('/'), E2eEnvironment.WriteKey, "user_8412", "grace@example.com");
        Assert.True(exit == 0, $"node client failed ({exit}): {text}\n{service.Output}");

        Assert.True(await E2eEnvironment.WaitUntilAsync(() => partner.LogEntries.Any(e => e.RequestMessage.Path == "/v1/contact"),
            TimeSpan.FromSeconds(30)), "no /v1/contact call reached the fake partner:\n" + service.Output);
        // One identify, one call; a second would be a re-delivery, and the service's log says why (a timed-out attempt
        // retried, a client resending its batch after its own timeout), so it goes into the failure message.
        var calls = partner.LogEntries.Where(e => e.RequestMessage.Path == "/v1/contact").ToList();
        Assert.True(calls.Count == 1, $"{calls.Count} /v1/contact calls for one identify:\n" + service.Output);
        var call = calls[0].RequestMessage;
        Assert.Equal("POST", call.Method);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{E2eEnvironment.ApiToken}:{E2eEnvironment.ApiSecret}")),
            call.Headers!["Authorization"].Single());
        Assert.StartsWith("application/json", call.Headers!["Content-Type"].Single());
        var expected = JsonNode.Parse("""
            {"contact_uid":"user_8412","params":{"email":"grace@example.com","name":"Grace Hopper","plan":"pro"}}
            """);
        Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(call.Body!)), "body was " + call.Body);
    }
}
