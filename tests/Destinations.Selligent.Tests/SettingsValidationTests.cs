using Destinations.Core.Delivery;
using static Destinations.Selligent.Tests.TestEvents;

namespace Destinations.Selligent.Tests;

/// <summary>Settings under the API's names (D19), validated at start with key-path messages, and the SSRF guard.</summary>
public sealed class SettingsValidationTests
{
    static Dictionary<string, string?> Config(IEnumerable<(string Key, string? Value)> settings, params (string Key, string? Value)[] service)
    {
        var config = new Dictionary<string, string?>
        {
            ["Destinations:0:Id"] = "smc-main",
            ["Destinations:0:Type"] = "SelligentMarketingCloud",
        };
        foreach (var (key, value) in settings) config[$"Destinations:0:Settings:{key}"] = value;
        foreach (var (key, value) in service) config[key] = value;
        return config;
    }

    static (string, string?)[] Valid(params (string Key, string? Value)[] overrides)
    {
        var d = new Dictionary<string, string?>
        {
            ["ApiKey"] = Key, ["ApiSecret"] = Secret, ["SmcAdminUrl"] = "https://acme.slgnt.us", ["Organization"] = "ACME",
            ["AllowedEvents:0"] = "Order Completed",
        };
        foreach (var (k, v) in overrides) d[k] = v;
        return d.Select(kv => (kv.Key, kv.Value)).ToArray();
    }

    static DestinationBuildResult Build((string, string?)[] settings, params (string, string?)[] service)
    {
        using var host = new TestHost(Config(settings, service));
        return host.Create();
    }

    [Fact]
    public void Valid_settings_take_the_defaults()
    {
        var result = Build(Valid());
        Assert.Empty(result.Errors);
        Assert.Empty(result.Warnings);
        var d = Assert.IsType<SelligentDestination>(result.Destination);
        Assert.Equal("Selligent Marketing Cloud", d.IntegrationName);
        Assert.Equal(Key, d.Settings.ApiKey);
        Assert.Equal(Secret, d.Settings.ApiSecret);
        Assert.Equal(new Uri("https://acme.slgnt.us"), d.Settings.SmcAdminUrl);
        Assert.Equal("ACME", d.Settings.Organization);
        Assert.Equal(["Order Completed"], d.Settings.AllowedEvents);
        Assert.Equal("segment_events", d.Settings.EventsDataListApiName);
        Assert.False(d.Settings.SendAliasEvents);
        Assert.False(d.Settings.SendGroupEvents);
        Assert.False(d.Settings.SendPageEvents);
        Assert.False(d.Settings.SendScreenEvents);
        Assert.Equal(new SelligentColumns(), d.Settings.Columns);
        Assert.Equal(1000, d.MaxBatchSize);
        Assert.Equal("/Portal/Api/organizations/ACME/lists/segment_events/data/load?keyFields=MESSAGE_ID", d.Settings.EventsLoadPath);
    }

    [Fact]
    public void Every_setting_is_read()
    {
        var result = Build(Valid(("AllowedEvents:1", "Signed Up"), ("EventsDataListApiName", "my_events"),
            ("SendAliasEvents", "true"), ("SendGroupEvents", "True"), ("SendPageEvents", "false"), ("SendScreenEvents", "true"),
            ("Columns:MessageId", "MSG"), ("Columns:Properties", "PROPS")), ("Selligent:MaxRowsPerLoad", "250"));
        Assert.Empty(result.Errors);
        var d = Assert.IsType<SelligentDestination>(result.Destination);
        Assert.Equal(new HashSet<string> { "Order Completed", "Signed Up" }, d.Settings.AllowedEvents);
        Assert.Equal("my_events", d.Settings.EventsDataListApiName);
        Assert.True(d.Settings.SendAliasEvents);
        Assert.True(d.Settings.SendGroupEvents);
        Assert.False(d.Settings.SendPageEvents);
        Assert.True(d.Settings.SendScreenEvents);
        Assert.Equal("MSG", d.Settings.Columns.MessageId);
        Assert.Equal("PROPS", d.Settings.Columns.Properties);
        Assert.Equal("EVENT_TYPE", d.Settings.Columns.EventType);
        Assert.Equal(250, d.MaxBatchSize);
        Assert.Equal("/Portal/Api/organizations/ACME/lists/my_events/data/load?keyFields=MSG", d.Settings.EventsLoadPath);
    }

    [Fact]
    public void An_empty_allow_list_is_valid_and_warned_about()
    {
        var result = Build(Valid().Where(s => s.Item1 != "AllowedEvents:0").ToArray());
        Assert.Empty(result.Errors);
        Assert.Equal(["Destinations[0].Settings.AllowedEvents: is empty, so no track events will be sent to Selligent Marketing Cloud"],
            result.Warnings);
        Assert.Empty(Assert.IsType<SelligentDestination>(result.Destination).Settings.AllowedEvents);
    }

    [Fact]
    public void An_empty_events_list_name_means_the_default()
    {
        var d = Assert.IsType<SelligentDestination>(Build(Valid(("EventsDataListApiName", " "))).Destination);
        Assert.Equal("segment_events", d.Settings.EventsDataListApiName);
    }

    [Fact]
    public void Missing_and_malformed_settings_are_errors_with_key_paths()
    {
        var result = Build([("AllowedEvents", "Order Completed"), ("SendPageEvents", "yes"), ("Columns:Context", "MESSAGE_ID")]);
        Assert.Null(result.Destination);
        Assert.Equal(
        [
            "Destinations[0].Settings.ApiKey: is required",
            "Destinations[0].Settings.ApiSecret: is required",
            "Destinations[0].Settings.SmcAdminUrl: is required, e.g. https://acme.slgnt.us",
            "Destinations[0].Settings.Organization: is required",
            "Destinations[0].Settings.AllowedEvents: must be a list of event names (AllowedEvents:0, AllowedEvents:1, …), not a single string",
            "Destinations[0].Settings.SendPageEvents: must be true or false",
            "Destinations[0].Settings.Columns: column 'MESSAGE_ID' is used for MessageId and Context",
        ], result.Errors);
    }

    [Fact]
    public void Unknown_settings_are_warned_about()
    {
        var result = Build(Valid(("ApiKy", "x"), ("Columns:Nope", "X")));
        Assert.Empty(result.Errors);
        Assert.Equal(
        [
            "Destinations[0].Settings.Columns.Nope: unknown column setting, ignored (known: MessageId, EventType, EventName, UserId, AnonymousId, PreviousId, GroupId, EventTimestamp, Properties, Context)",
            "Destinations[0].Settings.ApiKy: unknown setting, ignored (known: ApiKey, ApiSecret, SmcAdminUrl, Organization, AllowedEvents, EventsDataListApiName, SendAliasEvents, SendGroupEvents, SendPageEvents, SendScreenEvents, Columns, GroupSegments)",
        ], result.Warnings);
    }

    [Theory]
    [InlineData("https://acme.slgnt.us")]
    [InlineData("https://acme.slgnt.eu/")]
    [InlineData("https://ACME.SLGNT.EU")]
    [InlineData("https://acme.module.slgnt.eu")]
    [InlineData("https://slgnt.us")]
    public void Selligent_hosts_pass_the_ssrf_guard(string url) => Assert.Empty(Build(Valid(("SmcAdminUrl", url))).Errors);

    [Theory]
    [InlineData("https://evil.example", "host 'evil.example' is not a Selligent host (allowed: slgnt.us, slgnt.eu)")]
    [InlineData("https://evilslgnt.us", "host 'evilslgnt.us' is not a Selligent host (allowed: slgnt.us, slgnt.eu)")]
    [InlineData("https://acme.slgnt.us.evil.example", "host 'acme.slgnt.us.evil.example' is not a Selligent host (allowed: slgnt.us, slgnt.eu)")]
    [InlineData("https://169.254.169.254", "host '169.254.169.254' is not a Selligent host (allowed: slgnt.us, slgnt.eu)")]
    [InlineData("https://127.0.0.1:8080", "host '127.0.0.1' is not a Selligent host (allowed: slgnt.us, slgnt.eu)")]
    [InlineData("http://acme.slgnt.us", "must use https (http is allowed only with Selligent:AllowHttp=true, for tests)")]
    [InlineData("ftp://acme.slgnt.us", "must be an absolute https URL such as https://acme.slgnt.us")]
    [InlineData("acme.slgnt.us", "must be an absolute https URL such as https://acme.slgnt.us")]
    [InlineData("https://u:p@acme.slgnt.us", "must not contain credentials; set ApiKey and ApiSecret instead")]
    [InlineData("https://acme.slgnt.us/?next=https://evil.example", "must not have a query or fragment; use the address you log in to, e.g. https://acme.slgnt.us")]
    public void Other_urls_are_refused_by_the_ssrf_guard(string url, string rule) =>
        Assert.Equal([$"Destinations[0].Settings.SmcAdminUrl: {rule}"], Build(Valid(("SmcAdminUrl", url))).Errors);

    [Fact]
    public void The_service_wide_allow_list_adds_to_the_default_and_allow_http_opens_http()
    {
        (string, string?)[] service = [("Selligent:AdminHostAllowList:0", "127.0.0.1"), ("Selligent:AdminHostAllowList:1", ".sandbox.example")];
        Assert.Empty(Build(Valid(("SmcAdminUrl", "https://127.0.0.1:9443")), service).Errors);
        Assert.Empty(Build(Valid(("SmcAdminUrl", "https://x.sandbox.example")), service).Errors);
        Assert.Empty(Build(Valid(("SmcAdminUrl", "https://acme.slgnt.us")), service).Errors); // the code default stays (D19)
        Assert.Equal(["Destinations[0].Settings.SmcAdminUrl: host 'evil.example' is not a Selligent host (allowed: slgnt.us, slgnt.eu, 127.0.0.1, sandbox.example)"],
            Build(Valid(("SmcAdminUrl", "https://evil.example")), service).Errors);
        Assert.Equal(["Destinations[0].Settings.SmcAdminUrl: must use https (http is allowed only with Selligent:AllowHttp=true, for tests)"],
            Build(Valid(("SmcAdminUrl", "http://127.0.0.1:9443")), service).Errors);
        Assert.Empty(Build(Valid(("SmcAdminUrl", "http://127.0.0.1:9443")), [.. service, ("Selligent:AllowHttp", "true")]).Errors);
    }
}
