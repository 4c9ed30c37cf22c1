using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using WireMock.Logging;
using static Destinations.Selligent.Tests.TestEvents;

namespace Destinations.Selligent.Tests;

/// <summary>The real typed client and pipeline (AddSelligent) against a loopback WireMock SMC: exact URLs, headers, bodies.</summary>
public sealed class SelligentClientTests : IDisposable
{
    const string Ok = """{"result_code":"Succeeded","number_of_inserted_records":1}""";
    const string RowsPath = "/Portal/Api/organizations/ACME/lists/segment_events/data/load?keyFields=MESSAGE_ID";
    readonly PartnerFixture _f = new();

    public void Dispose() => _f.Dispose();

    List<ILogEntry> Log() => _f.Partner.LogEntries.OrderBy(l => l.RequestMessage.DateTime).ToList();

    static void AssertRequest(ILogEntry entry, string method, string pathAndQuery, string? body)
    {
        var request = entry.RequestMessage;
        Assert.Equal(method, request.Method);
        Assert.Equal(pathAndQuery, new Uri(request.Url).PathAndQuery);
        Assert.Equal($"{Key}:{Secret}", entry.Header("X-ApiKey"));
        Assert.Equal("application/json", entry.Header("Accept"));
        if (body is null) return;
        Assert.Equal("application/json", entry.Header("Content-Type"));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(body), JsonNode.Parse(request.Body!)), $"body was {request.Body}");
    }

    static string RowBody(string fixture) => new JsonArray(
        new JsonArray("MESSAGE_ID", "EVENT_TYPE", "EVENT_NAME", "USER_ID", "ANONYMOUS_ID", "PREVIOUS_ID", "GROUP_ID", "EVENT_TIMESTAMP", "PROPERTIES", "CONTEXT"),
        new JsonArray([.. Fixture(fixture)["expected"]!["requests"]!.AsArray().Last()!["body"]!.AsObject().Select(kv => kv.Value?.DeepClone())]))
        .ToJsonString();

    [Fact]
    public async Task An_identify_is_a_one_row_load_with_the_api_key_header()
    {
        _f.Answer(200, Ok);
        var plan = _f.Plan("identify.json");
        var result = await _f.Destination.SendAsync(plan.Single(), CancellationToken.None);
        Assert.Equal(new AttemptResult(AttemptOutcome.Succeeded, 200, null, null, null), result);
        AssertRequest(Assert.Single(Log()), "POST", RowsPath, RowBody("identify.json"));
    }

    [Fact]
    public async Task A_group_add_loads_the_static_segment_then_the_event_row()
    {
        _f.Answer(200, Ok);
        foreach (var step in _f.Plan("group-add.json"))
            Assert.True((await _f.Destination.SendAsync(step, CancellationToken.None)).IsSuccess);
        var log = Log();
        Assert.Equal(2, log.Count);
        AssertRequest(log[0], "POST", "/Portal/Api/organizations/ACME/lists/USERS_SEGMENT/segments/SegmentToSMCStatic/data/load?keyFields=MAIL",
            """[["MAIL"],["segmenttest@selligent.com"]]""");
        AssertRequest(log[1], "POST", RowsPath, RowBody("group-add.json"));
    }

    [Fact]
    public async Task A_group_remove_deletes_the_membership_and_a_missing_user_is_final()
    {
        _f.Answer(200, """{"result_code":"Succeeded","number_of_records_not_found":1}""");
        var remove = _f.Plan("group-remove.json")[0];
        var result = await _f.Destination.SendAsync(remove, CancellationToken.None);
        Assert.Equal(AttemptOutcome.Final, result.Outcome);
        Assert.Equal("SMC found no record in userlist 'USERS_SEGMENT' whose MAIL matches the userId (number_of_records_not_found = 1)", result.Error);
        AssertRequest(Assert.Single(Log()), "DELETE",
            "/Portal/Api/organizations/ACME/lists/USERS_SEGMENT/segments/SegmentToSMCStatic/data?keyFields=MAIL",
            """[["MAIL"],["segmenttest@selligent.com"]]""");
    }

    [Fact]
    public async Task A_batch_is_one_load_and_partial_success_fails_only_the_invalid_rows()
    {
        _f.Answer(200, """
            {"result_code":"PartiallySucceeded","number_of_inserted_records":2,"number_of_failed_records":1,
             "invalid_records":[{"record_index":2,"field_name":"USER_ID","message":"too long","validation_code":"MaxLength"}]}
            """);
        var rows = new[] { "identify.json", "track-allowed.json", "identify-engage-audience.json" }.Select(f => _f.Plan(f).Single()).ToArray();
        Assert.All(rows, r => Assert.Equal(RowsPath, _f.Destination.BatchKey(r)));

        var results = await _f.Destination.SendBatchAsync(rows, CancellationToken.None);

        var ok = new AttemptResult(AttemptOutcome.Succeeded, 200, null, null, null);
        Assert.Equal(ok, results[0]);
        Assert.Equal(ok, results[2]);
        Assert.Equal(AttemptOutcome.Final, results[1].Outcome);
        Assert.Equal("SMC rejected the row: USER_ID: too long (MaxLength)", results[1].Error);
        var request = Assert.Single(Log());
        var body = JsonNode.Parse(request.RequestMessage.Body!)!.AsArray();
        Assert.Equal(4, body.Count);
        Assert.Equal("""["MESSAGE_ID","EVENT_TYPE","EVENT_NAME","USER_ID","ANONYMOUS_ID","PREVIOUS_ID","GROUP_ID","EVENT_TIMESTAMP","PROPERTIES","CONTEXT"]""",
            body[0]!.ToJsonString());
        Assert.Equal(["ajs-next-01-identify", "ajs-next-02-track", "personas_10_aud_identify"], body.Skip(1).Select(r => r![0]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_batch_respects_max_rows_and_sends_segment_ops_alone()
    {
        using var f = new PartnerFixture(maxRowsPerLoad: 2);
        f.Answer(200, Ok);
        var group = f.Plan("group-add.json");
        PartnerRequest[] requests = [f.Plan("identify.json")[0], group[0], f.Plan("track-allowed.json")[0], group[1]];
        Assert.Null(f.Destination.BatchKey(group[0]));

        var results = await f.Destination.SendBatchAsync(requests, CancellationToken.None);

        Assert.Equal(4, results.Count);
        Assert.All(results, r => Assert.True(r.IsSuccess));
        var bodies = f.Partner.LogEntries.Select(l => JsonNode.Parse(l.RequestMessage.Body!)!.AsArray().Count).Order().ToList();
        Assert.Equal([2, 2, 3], bodies); // the segment op; then 3 rows in loads of at most 2
    }

    [Theory]
    [InlineData("Failed", AttemptOutcome.Final)]
    [InlineData("ServiceUnavailable", AttemptOutcome.Retry)]
    public async Task A_200_with_a_failing_result_code_is_not_a_success(string code, AttemptOutcome outcome)
    {
        _f.Answer(200, $$"""{"result_code":"{{code}}"}""");
        var result = await _f.Destination.SendAsync(_f.Plan("identify.json")[0], CancellationToken.None);
        Assert.Equal(outcome, result.Outcome);
        Assert.Equal($"SMC result_code {code}", result.Error);
        Assert.Single(Log()); // never retried in-process (D14)
    }

    [Theory]
    [InlineData("17", 17)]
    [InlineData("2500, 2500;w=60", 2500)]
    [InlineData("garbage", 60)]
    public async Task A_429_waits_for_the_rate_limit_reset(string reset, int seconds)
    {
        _f.Answer(429, "API calls quota exceeded! maximum admitted 2500 per 1m.",
            ("X-RateLimit-Limit", "2500, 2500;w=60"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", reset));
        var results = await _f.Destination.SendBatchAsync([_f.Plan("identify.json")[0], _f.Plan("track-allowed.json")[0]], CancellationToken.None);
        var expected = new AttemptResult(AttemptOutcome.Retry, 429, "API calls quota exceeded! maximum admitted 2500 per 1m.",
            TimeSpan.FromSeconds(seconds), "HTTP 429");
        Assert.Equal([expected, expected], results);
        Assert.Single(Log());
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task Auth_failures_follow_D12(int status)
    {
        _f.Answer(status, "Unauthorized");
        var result = await _f.Destination.SendAsync(_f.Plan("identify.json")[0], CancellationToken.None);
        Assert.Equal(new AttemptResult(AttemptOutcome.AuthFailure, status, "Unauthorized", null, $"HTTP {status}"), result);
    }

    [Fact]
    public async Task A_400_validation_failure_is_final_with_the_body()
    {
        const string body = """{"errors":[{"error_code":"InvalidField"}],"result_code":"ValidationFailed","message":"bad"}""";
        _f.Answer(400, body);
        var result = await _f.Destination.SendAsync(_f.Plan("identify.json")[0], CancellationToken.None);
        Assert.Equal(new AttemptResult(AttemptOutcome.Final, 400, body, null, "HTTP 400"), result);
    }

    [Fact]
    public async Task A_timeout_is_a_retry_and_nothing_is_retried_in_process()
    {
        using var f = new PartnerFixture(attemptTimeout: "00:00:00.300");
        f.Answer(WireMock.RequestBuilders.Request.Create().UsingAnyMethod(), 200, Ok, TimeSpan.FromSeconds(2));
        var result = await f.Destination.SendAsync(f.Plan("identify.json")[0], CancellationToken.None);
        Assert.Equal(new AttemptResult(AttemptOutcome.Retry, null, null, null, "timeout: the partner did not answer in time"), result);
    }

    [Fact]
    public async Task Connection_refused_is_retried_in_process_then_classified_retry()
    {
        var dead = new SelligentDestination("dead", new SelligentSettings
        {
            ApiKey = Key, ApiSecret = Secret, SmcAdminUrl = new Uri($"http://127.0.0.1:{LoopbackPartner.FreePort()}"), Organization = "ACME",
        }, 1000, () => (SelligentClient)_f.Host.Services.GetService(typeof(SelligentClient))!);
        var result = await dead.SendAsync(_f.Plan("identify.json")[0], CancellationToken.None);
        Assert.Equal(AttemptOutcome.Retry, result.Outcome);
        Assert.Null(result.StatusCode);
        Assert.StartsWith("connection error: ", result.Error);
    }

    [Fact]
    public async Task Nothing_sent_or_returned_contains_a_secret_except_the_api_key_header()
    {
        _f.Answer(500, $"echo {Key}");
        var result = await _f.Destination.SendAsync(_f.Plan("identify.json")[0], CancellationToken.None);
        Assert.Equal(AttemptOutcome.Retry, result.Outcome);
        var entry = Assert.Single(Log());
        SecretLeakTests.AssertNoSecret(entry.RequestMessage.Url);
        SecretLeakTests.AssertNoSecret(entry.RequestMessage.Body);
        SecretLeakTests.AssertNoSecret(_f.Destination.Describe(_f.Plan("identify.json")[0]).ToString());
    }
}
