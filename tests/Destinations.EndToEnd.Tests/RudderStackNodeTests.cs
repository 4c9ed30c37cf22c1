using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.EndToEnd.Tests;

/// <summary>
/// A client nobody here wrote: RudderStack's Node SDK (@rudderstack/rudder-sdk-node 3.x, pinned in node-rudderstack/) sends
/// an identify and a track, data plane pointed at the service. It posts one gzip JSON /v1/batch with Content-Type
/// application/x-www-form-urlencoded (D1 reads it as JSON); both events must be stored and reach a fake Salesmachine.
/// </summary>
public sealed class RudderStackNodeTests
{
    const string AdminKey = "e2e-admin-key-rudderstack-0123456789";

    [Fact]
    public async Task Events_from_the_RudderStack_node_sdk_are_stored_and_delivered()
    {
        var folder = NodeClient.RudderStack.Prepare();

        using var partner = WireMockServer.Start();
        partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        var data = E2eEnvironment.NewDataDirectory();
        var settings = E2eEnvironment.SalesmachineService(data, partner.Url!);
        settings["Admin__ApiKey"] = AdminKey;
        settings["Delivery__Lease"] = "00:00:30"; // the 3 s default can run out on a loaded machine and re-send the rows
        await using var service = await ServiceProcess.StartAsync(settings, data);

        var (exit, text) = await NodeClient.RunAsync(folder, "send-events.mjs",
            service.BaseAddress.ToString().TrimEnd('/'), E2eEnvironment.WriteKey, "user_1815", "ada@example.com");
        Assert.True(exit == 0, $"rudder-sdk-node client failed ({exit}): {text}\n{service.Output}");

        // Salesmachine may get them as single calls or in one /v1/batch (D15): flatten to the items it received.
        Assert.True(await E2eEnvironment.WaitUntilAsync(() => Received(partner).Count >= 2, TimeSpan.FromSeconds(30)),
            "the two events did not reach the fake partner:\n" + string.Join('\n', Received(partner).Select(i => i.ToJsonString())) + "\n" + service.Output);
        // Delivery is at least once: a re-send after a lease ran out on a busy machine is allowed, a different or missing item is not.
        var items = Received(partner).DistinctBy(i => i.ToJsonString()).ToList();
        var log = string.Join('\n', partner.LogEntries.Select(e => $"{e.RequestMessage.Path} {e.ResponseMessage.StatusCode} {e.RequestMessage.Body}"));
        Assert.True(items.Count == 2, "the partner received:\n" + log);
        var contact = Assert.Single(items, i => i["contact_uid"]?.GetValue<string>() == "user_1815" && i["event_uid"] is null);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"email":"ada@example.com","name":"Ada Lovelace","plan":"pro"}"""), contact["params"]),
            "contact was " + contact.ToJsonString());
        var track = Assert.Single(items, i => i["event_uid"] is not null);
        Assert.Equal("user_1815", track["contact_uid"]!.GetValue<string>());
        Assert.Equal("Signed Up", track["event_uid"]!.GetValue<string>());
        Assert.All(partner.LogEntries, e => Assert.Equal("Basic " + Convert.ToBase64String(
            Encoding.UTF8.GetBytes($"{E2eEnvironment.ApiToken}:{E2eEnvironment.ApiSecret}")), e.RequestMessage.Headers!["Authorization"].Single()));

        // Stored: the service's own record of the deliveries, read from its store through the admin API.
        using var http = new HttpClient { BaseAddress = service.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        JsonNode? stats = null;
        Assert.True(await E2eEnvironment.WaitUntilAsync(() =>
        {
            stats = JsonNode.Parse(http.GetStringAsync("/admin/destinations/salesmachine-e2e/stats").GetAwaiter().GetResult());
            return stats?["delivered"]?.GetValue<long>() == 2;
        }, TimeSpan.FromSeconds(15)), "stats: " + stats?.ToJsonString());
    }

    /// <summary>Every single-call body the fake partner answered 2xx, with the items of /v1/batch arrays taken apart.</summary>
    static List<JsonObject> Received(WireMockServer partner)
    {
        var items = new List<JsonObject>();
        foreach (ILogEntry entry in partner.LogEntries)
        {
            if (entry.ResponseMessage.StatusCode is not int status || status >= 300) continue;
            switch (JsonNode.Parse(entry.RequestMessage.Body ?? "null"))
            {
                case JsonArray batch: items.AddRange(batch.OfType<JsonObject>()); break;
                case JsonObject single: items.Add(single); break;
            }
        }
        return items;
    }
}
