using Destinations.Core.Delivery;
using Destinations.Core.Segment;
using WireMock.RequestBuilders;

namespace Destinations.Selligent.Tests;

public sealed class ConnectionAndSubscribeTests
{
    const string FieldsPath = "/Portal/Api/organizations/ACME/lists/segment_events/fields";
    const string AllColumns = """
        [{"name":"MESSAGE_ID"},{"name":"EVENT_TYPE"},{"name":"EVENT_NAME"},{"name":"USER_ID"},{"name":"ANONYMOUS_ID"},
         {"name":"PREVIOUS_ID"},{"name":"GROUP_ID"},{"name":"EVENT_TIMESTAMP"},{"name":"PROPERTIES"},{"name":"CONTEXT"},{"name":"MAIL"}]
        """;

    [Fact]
    public async Task Connection_test_checks_status_then_the_configured_columns()
    {
        using var f = new PartnerFixture();
        f.Answer(Request.Create().WithPath("/Portal/Api/status").UsingGet(), 200, "OK", TimeSpan.Zero);
        f.Answer(Request.Create().WithPath(FieldsPath).UsingGet(), 200, AllColumns, TimeSpan.Zero);
        var check = await f.Destination.TestConnectionAsync(CancellationToken.None);
        Assert.True(check.Ok);
        Assert.Equal(
        [
            new ConnectionCheckStep("status (GET /Portal/Api/status)", true, 200, "ok"),
            new ConnectionCheckStep($"events list columns (GET {FieldsPath})", true, 200, "ok"),
        ], check.Steps);
        Assert.All(f.Partner.LogEntries, e => Assert.Equal($"{TestEvents.Key}:{TestEvents.Secret}", e.Header("X-ApiKey")));
    }

    [Fact]
    public async Task Missing_columns_are_named()
    {
        using var f = new PartnerFixture();
        f.Answer(Request.Create().WithPath("/Portal/Api/status").UsingGet(), 200, "OK", TimeSpan.Zero);
        f.Answer(Request.Create().WithPath(FieldsPath).UsingGet(), 200, """{"fields":[{"name":"message_id"},{"name":"EVENT_TYPE"}]}""", TimeSpan.Zero);
        var check = await f.Destination.TestConnectionAsync(CancellationToken.None);
        Assert.False(check.Ok);
        Assert.Equal(new ConnectionCheckStep($"events list columns (GET {FieldsPath})", false, 200,
            "list 'segment_events' has no column EVENT_NAME, USER_ID, ANONYMOUS_ID, PREVIOUS_ID, GROUP_ID, EVENT_TIMESTAMP, PROPERTIES, CONTEXT (create it in SMC or set Settings:Columns)"),
            check.Steps[1]);
    }

    [Fact]
    public async Task Configured_group_segments_must_exist_in_their_userlist_and_be_static()
    {
        using var f = new PartnerFixture(groupSegments: ["USERS/SegmentToSMCStatic", "USERS/Dynamic", "USERS/Gone", "CUSTOMERS/VIP"]);
        f.Answer(Request.Create().WithPath("/Portal/Api/status").UsingGet(), 200, "OK", TimeSpan.Zero);
        f.Answer(Request.Create().WithPath(FieldsPath).UsingGet(), 200, AllColumns, TimeSpan.Zero);
        f.Answer(Request.Create().WithPath("/Portal/Api/organizations/ACME/lists/USERS/segments").UsingGet(), 200,
            """[{"api_name":"SegmentToSMCStatic","type":"STATIC"},{"api_name":"Dynamic","type":"DYNAMIC"}]""", TimeSpan.Zero);
        f.Answer(Request.Create().WithPath("/Portal/Api/organizations/ACME/lists/CUSTOMERS/segments").UsingGet(), 200,
            """{"segments":[{"name":"VIP","type":"static"}]}""", TimeSpan.Zero);

        var check = await f.Destination.TestConnectionAsync(CancellationToken.None);
        Assert.False(check.Ok);
        Assert.Equal(
        [
            new ConnectionCheckStep("group segments of 'USERS' (GET /Portal/Api/organizations/ACME/lists/USERS/segments)", false, 200,
                "segment 'Dynamic' is DYNAMIC, not static (only static segments can be loaded); no segment 'Gone'"),
            new ConnectionCheckStep("group segments of 'CUSTOMERS' (GET /Portal/Api/organizations/ACME/lists/CUSTOMERS/segments)", true, 200, "ok"),
        ], check.Steps.Skip(2));
    }

    [Fact]
    public void Group_segments_must_name_a_userlist_and_a_segment()
    {
        using var host = new TestHost(new Dictionary<string, string?>
        {
            ["Destinations:0:Id"] = "smc-main",
            ["Destinations:0:Type"] = "SelligentMarketingCloud",
            ["Destinations:0:Settings:ApiKey"] = TestEvents.Key,
            ["Destinations:0:Settings:ApiSecret"] = TestEvents.Secret,
            ["Destinations:0:Settings:SmcAdminUrl"] = "https://acme.slgnt.us",
            ["Destinations:0:Settings:Organization"] = "ACME",
            ["Destinations:0:Settings:GroupSegments:0"] = "USERS",
        });
        Assert.Equal(["Destinations[0].Settings.GroupSegments[0]: must be 'USERLIST_API_NAME/SEGMENT_API_NAME'"], host.Create().Errors);
    }

    [Fact]
    public async Task A_failing_status_stops_the_test_with_the_reason()
    {
        using var f = new PartnerFixture();
        f.Answer(401, "Unauthorized");
        var check = await f.Destination.TestConnectionAsync(CancellationToken.None);
        Assert.Equal([new ConnectionCheckStep("status (GET /Portal/Api/status)", false, 401, "AuthFailure: HTTP 401 — Unauthorized")], check.Steps);
    }

    [Theory]
    [InlineData("identify")]
    [InlineData("track")]
    [InlineData("page")]
    [InlineData("screen")]
    [InlineData("group")]
    [InlineData("alias")]
    public void Every_sendable_call_type_is_its_own_subscription(string type)
    {
        var d = new SelligentDestination("smc", TestEvents.Settings(null), 1000, () => null!);
        Assert.Equal(SubscriptionMatch.Of(type).Subscriptions, d.Subscribe(TestEvents.OfType(type)).Subscriptions);
    }

    [Fact]
    public void Delete_and_unknown_types_are_refused_at_routing_time()
    {
        var d = new SelligentDestination("smc", TestEvents.Settings(null), 1000, () => null!);
        Assert.Equal((FilterReason.DeleteNotSupported, "Selligent Marketing Cloud"), Reason(d.Subscribe(TestEvents.OfType(CallTypes.Delete))));
        Assert.Equal((FilterReason.CallTypeNotAccepted, "untyped"), Reason(d.Subscribe(TestEvents.OfType(""))));
        Assert.Equal((FilterReason.CallTypeNotAccepted, "foo"), Reason(d.Subscribe(TestEvents.OfType("foo"))));
        Assert.False(d.Subscribe(TestEvents.OfType(CallTypes.Delete)).Matched);
    }

    static (FilterReason?, string?) Reason(SubscriptionMatch match) => (match.Reason, match.Detail);
}
