using System.Text.Json.Nodes;
using Destinations.Core.Delivery;

namespace Destinations.Selligent.Tests;

/// <summary>The pure readers: a 200's result_code, invalid_records' record_index, segment not-found, 429 waits, load bodies.</summary>
public sealed class LoadResultTests
{
    [Theory]
    [InlineData(1, 3, 0)]
    [InlineData(3, 3, 2)]
    [InlineData(0, 3, null)]  // 1-based over data rows (header excluded): 0 points at no row
    [InlineData(4, 3, null)]
    [InlineData(-1, 3, null)]
    public void Record_index_is_one_based_over_data_rows(int index, int rows, int? expected) =>
        Assert.Equal(expected, SelligentLoadResult.RowOf(JsonValue.Create(index), rows));

    [Fact]
    public void Record_index_that_is_not_a_number_points_at_no_row()
    {
        Assert.Null(SelligentLoadResult.RowOf(JsonValue.Create("1"), 3));
        Assert.Null(SelligentLoadResult.RowOf(null, 3));
    }

    [Fact]
    public void Succeeded_and_no_result_code_are_success_for_every_row()
    {
        var ok = new AttemptResult(AttemptOutcome.Succeeded, 200, null, null, null);
        Assert.Equal([ok, ok], SelligentLoadResult.ForRows(200, """{"result_code":"Succeeded","number_of_inserted_records":2}""", 2));
        Assert.Equal([ok], SelligentLoadResult.ForRows(200, "", 1));
        Assert.Equal([ok], SelligentLoadResult.ForRows(200, "not json", 1));
    }

    [Theory]
    [InlineData("Failed", AttemptOutcome.Final)]
    [InlineData("ValidationFailed", AttemptOutcome.Final)]
    [InlineData("NotFound", AttemptOutcome.Final)]
    [InlineData("ServiceUnavailable", AttemptOutcome.Retry)]
    [InlineData("InternalServerError", AttemptOutcome.Retry)]
    public void A_200_can_still_fail(string code, AttemptOutcome outcome)
    {
        var body = $$"""{"result_code":"{{code}}","errors":[{"error_code":"X","description":"d"}]}""";
        var expected = new AttemptResult(outcome, 200, body, null, $"SMC result_code {code}");
        Assert.Equal([expected, expected], SelligentLoadResult.ForRows(200, body, 2));
    }

    [Fact]
    public void An_unknown_result_code_is_retried_because_loads_are_upserts()
    {
        var body = """{"result_code":"Weird"}""";
        Assert.Equal([new AttemptResult(AttemptOutcome.Retry, 200, body, null, "SMC result_code Weird is not a known code")],
            SelligentLoadResult.ForRows(200, body, 1));
    }

    [Fact]
    public void Partially_succeeded_fails_exactly_the_invalid_records()
    {
        var body = """
            {"result_code":"PartiallySucceeded","number_of_failed_records":2,"invalid_records":[
              {"record_index":2,"field_name":"EVENT_TIMESTAMP","message":"not a date","validation_code":"InvalidDateTime"},
              {"record_index":2,"field_name":"USER_ID","message":"too long"},
              {"record_index":9,"field_name":"X","message":"out of range"}]}
            """;
        var results = SelligentLoadResult.ForRows(200, body, 3);
        var ok = new AttemptResult(AttemptOutcome.Succeeded, 200, null, null, null);
        Assert.Equal(ok, results[0]);
        Assert.Equal(ok, results[2]);
        Assert.Equal(AttemptOutcome.Final, results[1].Outcome);
        Assert.Equal(200, results[1].StatusCode);
        Assert.Equal("SMC rejected the row: EVENT_TIMESTAMP: not a date (InvalidDateTime); USER_ID: too long", results[1].Error);
        Assert.Equal("""[{"record_index":2,"field_name":"EVENT_TIMESTAMP","message":"not a date","validation_code":"InvalidDateTime"},{"record_index":2,"field_name":"USER_ID","message":"too long"}]""",
            results[1].ResponseExcerpt);
    }

    [Fact]
    public void Partially_succeeded_with_unplaceable_failures_retries_every_row()
    {
        var body = """{"result_code":"PartiallySucceeded","number_of_failed_records":1,"invalid_records":[{"record_index":0}]}""";
        var retry = new AttemptResult(AttemptOutcome.Retry, 200, body, null, "SMC result_code PartiallySucceeded, but invalid_records name no row of this load");
        Assert.Equal([retry, retry], SelligentLoadResult.ForRows(200, body, 2));
    }

    [Fact]
    public void A_segment_user_not_found_is_final_with_the_reason()
    {
        var body = """{"result_code":"Succeeded","number_of_records_not_found":1}""";
        Assert.Equal(new AttemptResult(AttemptOutcome.Final, 200, body, null,
                "SMC found no record in userlist 'USERS' whose MAIL matches the userId (number_of_records_not_found = 1)"),
            SelligentLoadResult.ForSegment(200, body, "USERS", "MAIL"));
        Assert.True(SelligentLoadResult.ForSegment(200, """{"result_code":"Succeeded","number_of_records_not_found":0}""", "USERS", "MAIL").IsSuccess);
    }

    [Theory]
    [InlineData("42", 42)]
    [InlineData("2500, 2500;w=60", 2500)]
    [InlineData(" 7 ;w=60", 7)]
    [InlineData("12.5", 12.5)]
    public void Rate_limit_reset_is_parsed_defensively(string header, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), SelligentRateLimit.Wait(null, [header]));

    [Theory]
    [InlineData("soon")]
    [InlineData("-5")]
    [InlineData("")]
    public void Unparseable_rate_limit_reset_falls_back_to_60_seconds(string header) =>
        Assert.Equal(TimeSpan.FromSeconds(60), SelligentRateLimit.Wait(null, [header]));

    [Fact]
    public void Retry_after_wins_and_nonsense_is_capped()
    {
        Assert.Equal(TimeSpan.FromSeconds(60), SelligentRateLimit.Wait(null, null));
        Assert.Equal(TimeSpan.FromSeconds(3), SelligentRateLimit.Wait(TimeSpan.FromSeconds(3), ["42"]));
        Assert.Equal(TimeSpan.FromHours(1), SelligentRateLimit.Wait(null, ["1790000000"]));
    }

    [Fact]
    public void Load_body_is_a_header_row_of_the_column_union_then_one_value_row_each()
    {
        var body = SelligentLoadBody.Build([
            new JsonObject { ["A"] = "1", ["B"] = true },
            new JsonObject { ["B"] = false, ["C"] = 3, ["A"] = null },
        ]);
        Assert.Equal("""[["A","B","C"],["1",true,null],[null,false,3]]""", body.ToJsonString());
    }

    [Fact]
    public void Lock_keys_drop_the_data_tail_so_add_and_remove_share_one()
    {
        Assert.Equal("https://acme.slgnt.us/Portal/Api/organizations/A/lists/L",
            SelligentClient.LockKey(new Uri("https://acme.slgnt.us/Portal/Api/organizations/A/lists/L/data/load?keyFields=K")));
        Assert.Equal(SelligentClient.LockKey(new Uri("https://h.slgnt.eu/Portal/Api/organizations/A/lists/U/segments/S/data/load?keyFields=M")),
            SelligentClient.LockKey(new Uri("https://h.slgnt.eu/Portal/Api/organizations/A/lists/U/segments/S/data?keyFields=M")));
    }
}
