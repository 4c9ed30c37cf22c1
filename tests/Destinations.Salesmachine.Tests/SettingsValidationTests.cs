using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Salesmachine;

namespace Destinations.Salesmachine.Tests;

public sealed class SettingsValidationTests
{
    const string Token = "tok-9f8e7d6c5b4a";
    const string Secret = "sec-1a2b3c4d5e6f";

    static Dictionary<string, string?> Config(params (string Key, string? Value)[] settings)
    {
        var config = new Dictionary<string, string?>
        {
            ["Destinations:0:Id"] = "sm-main",
            ["Destinations:0:Type"] = "Salesmachine",
        };
        foreach (var (key, value) in settings) config[$"Destinations:0:Settings:{key}"] = value;
        return config;
    }

    static DestinationBuildResult Build(params (string, string?)[] settings)
    {
        using var host = new TestHost(Config(settings));
        return host.Create();
    }

    [Fact]
    public void Valid_minimal_settings_take_the_default_base_url()
    {
        var result = Build(("ApiToken", Token), ("ApiSecret", Secret));
        Assert.Empty(result.Errors);
        Assert.Empty(result.Warnings);
        var d = Assert.IsType<SalesmachineDestination>(result.Destination);
        Assert.Equal("sm-main", d.Id);
        Assert.Equal(Token, d.Settings.ApiToken);
        Assert.Equal(Secret, d.Settings.ApiSecret);
        Assert.Equal(new Uri("https://api.salesmachine.io"), d.Settings.BaseUrl);
        Assert.Null(d.Settings.AliasPath);
    }

    [Fact]
    public void An_empty_api_secret_is_allowed()
    {
        var result = Build(("ApiToken", Token), ("ApiSecret", ""));
        Assert.Empty(result.Errors);
        Assert.Equal("", Assert.IsType<SalesmachineDestination>(result.Destination).Settings.ApiSecret);
    }

    [Fact]
    public void Missing_token_and_secret_are_errors_with_key_paths()
    {
        var result = Build();
        Assert.Null(result.Destination);
        Assert.Equal(
        [
            "Destinations[0].Settings.ApiToken: is required",
            "Destinations[0].Settings.ApiSecret: is required (use an empty string when the account has no API secret)",
        ], result.Errors);
    }

    [Fact]
    public void A_blank_token_is_an_error()
    {
        Assert.Equal(["Destinations[0].Settings.ApiToken: is required"], Build(("ApiToken", "  "), ("ApiSecret", Secret)).Errors);
    }

    [Theory]
    [InlineData("api.salesmachine.io")]
    [InlineData("/v1")]
    [InlineData("ftp://api.salesmachine.io")]
    [InlineData("not a url")]
    public void Base_url_must_be_absolute_http_or_https(string baseUrl)
    {
        Assert.Equal(["Destinations[0].Settings.BaseUrl: must be an absolute http(s) URL such as https://api.salesmachine.io"],
            Build(("ApiToken", Token), ("ApiSecret", Secret), ("BaseUrl", baseUrl)).Errors);
    }

    [Fact]
    public void Base_url_with_credentials_is_refused_without_echoing_them()
    {
        Assert.Equal(["Destinations[0].Settings.BaseUrl: must not contain credentials; set ApiToken and ApiSecret instead"],
            Build(("ApiToken", Token), ("ApiSecret", Secret), ("BaseUrl", $"https://{Token}:{Secret}@api.salesmachine.io")).Errors);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5050", "http://127.0.0.1:5050/v1/contact")]
    [InlineData("http://127.0.0.1:5050/", "http://127.0.0.1:5050/v1/contact")]
    [InlineData("https://sandbox.example/salesmachine/", "https://sandbox.example/salesmachine/v1/contact")]
    public void Base_url_is_taken_and_a_trailing_slash_is_handled(string baseUrl, string expected)
    {
        var d = Assert.IsType<SalesmachineDestination>(Build(("ApiToken", Token), ("ApiSecret", Secret), ("BaseUrl", baseUrl)).Destination);
        Assert.Equal(new Uri(expected), d.Describe(new PartnerRequest("contact", "POST", "/v1/contact", null)));
    }

    [Theory]
    [InlineData("v1/alias")]
    [InlineData("//evil.example/alias")]
    public void Alias_path_must_start_with_a_single_slash(string aliasPath)
    {
        Assert.Equal(["Destinations[0].Settings.AliasPath: must be a path starting with a single '/', e.g. /v1/alias"],
            Build(("ApiToken", Token), ("ApiSecret", Secret), ("AliasPath", aliasPath)).Errors);
    }

    [Fact]
    public void Alias_path_is_taken()
    {
        var d = Assert.IsType<SalesmachineDestination>(Build(("ApiToken", Token), ("ApiSecret", Secret), ("AliasPath", "/v1/alias")).Destination);
        Assert.Equal("/v1/alias", d.Settings.AliasPath);
    }

    [Fact]
    public void An_unknown_setting_is_a_warning()
    {
        var result = Build(("ApiToken", Token), ("ApiSecret", Secret), ("ApiKey", "x"));
        Assert.NotNull(result.Destination);
        Assert.Equal(["Destinations[0].Settings.ApiKey: unknown setting, ignored (known: ApiToken, ApiSecret, BaseUrl, AliasPath)"], result.Warnings);
    }

    [Fact]
    public void The_registry_builds_a_salesmachine_instance_through_the_registered_factory()
    {
        var config = Config(("ApiToken", Token), ("ApiSecret", Secret));
        using var host = new TestHost(config);
        var registry = DestinationRegistry.Build(host.Configuration, [host.Factory]);
        Assert.Equal("Salesmachine", Assert.Single(registry.Destinations).IntegrationName);
    }

    [Fact]
    public void The_registry_reports_salesmachine_errors()
    {
        using var host = new TestHost(Config(("ApiSecret", Secret)));
        var ex = Assert.Throws<ConfigurationException>(() => DestinationRegistry.Build(host.Configuration, [host.Factory]));
        Assert.Equal(["Destinations[0].Settings.ApiToken: is required"], ex.Errors);
    }
}
