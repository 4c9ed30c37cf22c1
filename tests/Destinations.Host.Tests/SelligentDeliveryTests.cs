using System.Net;
using System.Text.Json.Nodes;
using Destinations.Host.Tests.Support;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests;

/// <summary>
/// A group call sent through the service reaches a fake SMC as the static-segment load, and a track in
/// Allowed Events lands as an event row (keyed on MESSAGE_ID, so a re-delivery is an upsert); a track not allowed is filtered.
/// And the failure paths through the real host (<see cref="FailurePaths"/>): retry then success, 401 pause then resume, 400 to
/// dead letter then replay.
/// </summary>
public sealed class SelligentDeliveryTests : IDisposable
{
    readonly WireMockServer _partner = WireMockServer.Start();

    public SelligentDeliveryTests() => _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Accepted());

    public void Dispose() => _partner.Stop();

    [Fact]
    public async Task A_group_becomes_a_static_segment_load_and_an_allowed_track_an_event_row()
    {
        await using var app = ServiceApp.ForSelligent(_partner.Url!, "Order Completed");
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/group",
            """{"groupId":"SegmentToSMCStatic","userId":"a@b.com","messageId":"smc-group-1","traits":{"matchkey":"MAIL","userlist":"USERS"}}""")).StatusCode);
        var calls = await AwaitCallsAsync(2);
        await app.SendAsync("/v1/track", """{"userId":"a@b.com","event":"Order Completed","messageId":"smc-track-1","properties":{"total":12.5}}""");
        await app.SendAsync("/v1/track", """{"userId":"a@b.com","event":"Not Allowed","messageId":"smc-track-2"}""");
        calls = await AwaitCallsAsync(3);

        Assert.All(calls, c => Assert.Equal($"{ServiceApp.SelligentApiKey}:{ServiceApp.SelligentApiSecret}", c.RequestMessage.Headers!["X-ApiKey"].Single()));
        var segment = calls[0].RequestMessage;
        Assert.Equal("POST", segment.Method);
        Assert.Equal("/Portal/Api/organizations/ACME/lists/USERS/segments/SegmentToSMCStatic/data/load", segment.Path);
        Assert.Equal("MAIL", segment.Query!["keyFields"].Single());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[["MAIL"],["a@b.com"]]"""), JsonNode.Parse(segment.Body!)), segment.Body);

        var groupRow = Row(calls[1]);
        Assert.Equal("smc-group-1", groupRow["MESSAGE_ID"]);
        Assert.Equal("group", groupRow["EVENT_TYPE"]);
        var trackRow = Row(calls[2]);
        Assert.Equal("smc-track-1", trackRow["MESSAGE_ID"]);
        Assert.Equal("track", trackRow["EVENT_TYPE"]);
        Assert.Equal("Order Completed", trackRow["EVENT_NAME"]);
        Assert.Equal("a@b.com", trackRow["USER_ID"]);
        Assert.Equal("""{"total":12.5}""", trackRow["PROPERTIES"]);

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).FilteredTotal == 1));
        Assert.Equal(1, Assert.Single((await app.StatsAsync()).Filtered).Value);
        Assert.Equal(3, _partner.LogEntries.Count());
    }

    FailurePaths Failures => new(_partner, ServiceApp.SelligentId,
        settings => ServiceApp.ForSelligent(_partner.Url!, settings, FailurePaths.EventName, FailurePaths.MarkerName), Accepted);

    static IResponseBuilder Accepted() => Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
        .WithBody("""{"result_code":"Succeeded","number_of_inserted_records":1,"number_of_updated_records":0,"number_of_failed_records":0}""");

    [Fact]
    public Task A_500_is_retried_with_the_same_request_until_SMC_accepts() => Failures.A_500_is_retried_with_the_same_request_until_the_partner_accepts();

    [Fact]
    public Task A_401_pauses_the_SMC_instance_until_the_operator_resumes_it() =>
        Failures.A_401_pauses_the_instance_without_spending_attempts_until_the_operator_resumes_it();

    [Fact]
    public Task A_400_from_SMC_is_dead_lettered_and_a_replay_delivers_it() => Failures.A_400_is_dead_lettered_after_one_attempt_and_a_replay_delivers_it();

    /// <summary>An event row as column → value: the body is an array of arrays, the first row the column names.</summary>
    static Dictionary<string, string?> Row(ILogEntry call)
    {
        Assert.Equal("/Portal/Api/organizations/ACME/lists/segment_events/data/load", call.RequestMessage.Path);
        Assert.Equal("MESSAGE_ID", call.RequestMessage.Query!["keyFields"].Single());
        var rows = JsonNode.Parse(call.RequestMessage.Body!)!.AsArray();
        Assert.Equal(2, rows.Count);
        var names = rows[0]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        var values = rows[1]!.AsArray();
        return names.Select((name, i) => (name, value: values[i]?.ToString())).ToDictionary(p => p.name, p => p.value);
    }

    async Task<IReadOnlyList<ILogEntry>> AwaitCallsAsync(int count)
    {
        Assert.True(await ServiceApp.EventuallyAsync(() => Task.FromResult(_partner.LogEntries.Count() >= count)),
            $"expected {count} partner calls, saw {_partner.LogEntries.Count()}");
        return _partner.LogEntries.OrderBy(e => e.RequestMessage.DateTime).ToList();
    }
}
