namespace Destinations.Webhook.Tests;

/// <summary>What stops start-up, each error naming the key path (and the mapping and directive) and the rule, never a secret.</summary>
public sealed class ConfigurationTests
{
    const string Secret = "crm-secret-value-91aa";

    static Dictionary<string, string?> Settings(params (string Key, string? Value)[] changes)
    {
        var s = new Dictionary<string, string?>
        {
            ["SharedSecret"] = "whsec-config",
            ["AllowedHosts:0"] = "api.example.com",
            ["Secrets:CrmToken"] = Secret,
        };
        foreach (var (k, v) in changes) s[k] = v;
        return s;
    }

    static IReadOnlyList<string> Errors(string fields, Dictionary<string, string?>? settings = null)
    {
        using var host = new TestHost($$"""[{"name": "Contacts", "trigger": "type = \"identify\"", "action": "send", "fields": {{fields}} }]""",
            settings ?? Settings());
        var built = host.Create();
        Assert.Null(built.Destination);
        foreach (var e in built.Errors) Assert.DoesNotContain(Secret, e);
        return built.Errors;
    }

    [Fact]
    public void A_valid_instance_builds()
    {
        using var host = new TestHost("""[{"name": "Contacts", "trigger": "type = \"identify\"", "action": "send", "fields": {"url": "https://api.example.com/c"}}]""", Settings());
        var d = host.Destination();
        Assert.Equal("Webhooks (Actions)", d.IntegrationName);
        Assert.Equal("crm", d.Id);
    }

    [Fact]
    public void Liquid_is_an_error_naming_the_mapping_and_the_directive() =>
        Assert.Contains(Errors("""{"url": "https://api.example.com/c", "data": {"name": {"@liquid": "{{ traits.name | upcase }}"}}}"""),
            e => e.StartsWith("Destinations[0].MappingsFile: mapping 'Contacts' (index 0): fields.data.name.@liquid: the directive '@liquid' is not supported here"));

    [Fact]
    public void An_unknown_directive_is_an_error_naming_the_mapping_and_the_directive() =>
        Assert.Contains(Errors("""{"url": "https://api.example.com/c", "headers": {"X-A": {"@upper": "x"}}}"""),
            e => e.Contains("mapping 'Contacts'") && e.Contains("fields.headers.X-A.@upper: unknown directive '@upper'"));

    [Fact]
    public void AllowedHosts_is_required() =>
        Assert.Contains("Destinations[0].Settings.AllowedHosts: is required: list the hosts this instance may send to",
            Errors("""{"url": "https://api.example.com/c"}""", Settings(("AllowedHosts:0", null))));

    [Fact]
    public void A_literal_url_outside_AllowedHosts_or_over_http_is_an_error_at_start()
    {
        Assert.Contains(Errors("""{"url": "https://evil.test/c"}"""),
            e => e.Contains("mapping 'Contacts': fields.url: the host 'evil.test' is not in Settings.AllowedHosts (api.example.com)"));
        Assert.Contains(Errors("""{"url": "http://api.example.com/c"}"""),
            e => e.Contains("fields.url: http:// URLs are refused unless Settings.AllowHttp is true"));
    }

    [Fact]
    public void A_secret_the_settings_do_not_define_is_an_error() =>
        Assert.Contains(Errors("""{"url": "https://api.example.com/c", "headers": {"Authorization": "Bearer {{secrets.Missing}}"}}"""),
            e => e.Contains("fields.headers: uses {{secrets.Missing}}, which Settings.Secrets does not define"));

    [Fact]
    public void The_mappings_file_is_required()
    {
        using var host = new TestHost("[]", Settings());
        host.Configuration["Destinations:0:MappingsFile"] = null;
        Assert.Contains(host.Create().Errors, e => e.StartsWith("Destinations[0].MappingsFile: is required"));
    }

    [Theory]
    [InlineData("""{"url": "https://api.example.com/c", "method": "DELETE"}""", "fields.method: must be one of POST, PUT, PATCH")]
    [InlineData("""{"url": "https://api.example.com/c", "batch_size": 4001}""", "fields.batch_size: may be at most 4,000")]
    [InlineData("""{"method": "POST"}""", "fields.url: is required")]
    [InlineData("""{"url": "https://api.example.com/c", "headers": "X-A: b"}""", "fields.headers: expected an object")]
    public void Literal_fields_are_checked_at_start(string fields, string expected) =>
        Assert.Contains(Errors(fields), e => e.Contains(expected));

    [Theory]
    [InlineData("api.example.com", "https://api.example.com/x", true)]
    [InlineData("api.example.com", "https://API.example.com:8443/x", true)]
    [InlineData("api.example.com:8443", "https://api.example.com:8443/x", true)]
    [InlineData("api.example.com:8443", "https://api.example.com/x", false)]
    [InlineData("*.example.com", "https://a.b.example.com/x", true)]
    [InlineData("*.example.com", "https://example.com/x", false)]
    [InlineData("*.example.com", "https://evilexample.com/x", false)]
    [InlineData("example.com", "https://api.example.com/x", false)]
    public void AllowedHosts_match_exact_names_subdomains_for_wildcards_and_ports_when_named(string entry, string url, bool allowed)
    {
        var (hosts, errors) = AllowedHosts.Parse([entry], "AllowedHosts");
        Assert.Empty(errors);
        Assert.Equal(allowed, hosts!.Allows(new Uri(url)));
    }

    [Theory]
    [InlineData("https://api.example.com/a?b=c&d=%20", true)]
    [InlineData("https://api.example.com/a b", false)]
    [InlineData("https://api.example.com/zoë", false)]
    [InlineData("https://api.example.com/x?t={{secrets.CrmToken}}", true)]
    [InlineData("api.example.com/x", false)]
    public void Urls_are_checked_with_Segments_uri_format(string url, bool valid) => Assert.Equal(valid, WebhookUrls.IsUri(url));
}
