using System.Text;
using Destinations.Core.Routing;
using Destinations.Salesmachine;

namespace Destinations.Salesmachine.Tests;

/// <summary>D22: a secret must not appear raw, base64-encoded, or as (base64 of) <c>token:secret</c>.</summary>
public sealed class SecretLeakTests
{
    const string Token = "tok-9f8e7d6c5b4a";
    const string Secret = "sec-1a2b3c4d5e6f";

    static IEnumerable<string> Forms()
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        return [Token, Secret, B64(Token), B64(Secret), $"{Token}:{Secret}", B64($"{Token}:{Secret}")];
    }

    static void AssertNoSecret(string text)
    {
        foreach (var form in Forms()) Assert.DoesNotContain(form, text);
    }

    [Fact]
    public void Settings_and_destination_ToString_mask_the_secrets()
    {
        var settings = new SalesmachineSettings { ApiToken = Token, ApiSecret = Secret, AliasPath = "/v1/alias" };
        Assert.Equal("SalesmachineSettings { ApiToken = ********, ApiSecret = ********, BaseUrl = https://api.salesmachine.io/, AliasPath = /v1/alias }",
            settings.ToString());
        AssertNoSecret(settings.ToString());
        AssertNoSecret(new SalesmachineDestination("sm", settings, () => null!).ToString());
    }

    [Fact]
    public void Validation_messages_and_warnings_never_contain_the_secrets()
    {
        using var host = new TestHost(new Dictionary<string, string?>
        {
            ["Destinations:0:Id"] = "sm-main",
            ["Destinations:0:Type"] = "Salesmachine",
            ["Destinations:0:Settings:ApiToken"] = Token,
            ["Destinations:0:Settings:ApiSecret"] = Secret,
            ["Destinations:0:Settings:BaseUrl"] = $"https://{Token}:{Secret}@api.salesmachine.io",
            ["Destinations:0:Settings:AliasPath"] = Secret,
            ["Destinations:0:Settings:Api" + "Typo"] = Token,
        });
        var result = host.Create();
        Assert.Equal(2, result.Errors.Count);
        Assert.Single(result.Warnings);
        foreach (var message in result.Errors.Concat(result.Warnings)) AssertNoSecret(message);
        var ex = Assert.Throws<ConfigurationException>(() => DestinationRegistry.Build(host.Configuration, [host.Factory]));
        AssertNoSecret(ex.Message);
    }
}
