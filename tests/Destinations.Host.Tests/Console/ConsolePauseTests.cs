using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Destinations.Host.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>A paused instance (the partner answered 401, D12) as the console shows it, and the Resume button ending the pause.</summary>
public sealed class ConsolePauseTests
{
    [Fact]
    public async Task A_401_shows_the_instance_paused_with_its_reason_and_Resume_sends_the_held_deliveries()
    {
        using var app = new OperatorApp(new Dictionary<string, string?> { ["Delivery:ProbeBaseDelay"] = "00:10:00" });
        app.Partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(401).WithBody("invalid token"));
        var ingest = app.CreateClient();
        ingest.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(IngressApp.WebWriteKey + ":")));
        (await ingest.PostAsync("/v1/identify", OperatorApp.JsonBody("""{"userId":"paused-user","messageId":"paused-1","traits":{}}"""))).EnsureSuccessStatusCode();

        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);
        string overview = "";
        for (var until = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < until && !overview.Contains("state paused"); await Task.Delay(100))
            overview = await client.Http.GetStringAsync("/console");
        Assert.Contains("<span class=\"state paused\">paused</span>", overview);
        Assert.Contains("401", overview);
        Assert.Contains("1 held", overview);

        var destination = await client.Http.GetStringAsync("/console/destinations/sm");
        Assert.Contains("id=\"state\">paused", destination);
        Assert.Contains("retrying", destination); // the held delivery, grouped with the partner's answer
        Assert.Contains("invalid token", destination);

        app.Partner.Reset();
        app.Partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        var resume = await client.PostFormAsync("/console/destinations/sm?handler=Resume", "/console/destinations/sm");
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Contains("Resumed: the held deliveries go out again.", await resume.Content.ReadAsStringAsync());
        var delivered = false;
        for (var until = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < until && !delivered; await Task.Delay(100))
            delivered = app.Partner.LogEntries.Any(e => e.ResponseMessage.StatusCode is 200 && (e.RequestMessage.Body ?? "").Contains("paused-user", StringComparison.Ordinal));
        Assert.True(delivered);
        Assert.Contains("<td>resume</td><td>sm</td><td class=\"num\">1</td><td>resumed</td>", await client.Http.GetStringAsync("/console/audit"));
    }
}
