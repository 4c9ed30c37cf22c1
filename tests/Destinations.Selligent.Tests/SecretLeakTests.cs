using System.Text;
using Destinations.Core.Routing;
using static Destinations.Selligent.Tests.TestEvents;

namespace Destinations.Selligent.Tests;

/// <summary>D22: a secret must not appear raw, base64-encoded, or as (base64 of) <c>key:secret</c>.</summary>
public sealed class SecretLeakTests
{
    internal static IEnumerable<string> Forms()
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        return [Key, Secret, B64(Key), B64(Secret), $"{Key}:{Secret}", B64($"{Key}:{Secret}")];
    }

    internal static void AssertNoSecret(string? text)
    {
        foreach (var form in Forms()) Assert.DoesNotContain(form, text ?? "");
    }

    [Fact]
    public void Settings_destination_and_masked_settings_hide_the_secrets()
    {
        var settings = Settings(null);
        Assert.Equal("SelligentSettings { ApiKey = ********, ApiSecret = ********, SmcAdminUrl = https://acme.slgnt.us/, Organization = ACME, " +
            "EventsDataListApiName = segment_events, AllowedEvents = [], SendAliasEvents = False, SendGroupEvents = False, " +
            "SendPageEvents = False, SendScreenEvents = False }", settings.ToString());
        var d = new SelligentDestination("smc", settings, 1000, () => null!);
        AssertNoSecret(d.ToString());
        Assert.Equal("Selligent Marketing Cloud 'smc' → https://acme.slgnt.us/", d.ToString());
        Assert.Equal("********", d.MaskedSettings["ApiKey"]);
        Assert.Equal("********", d.MaskedSettings["ApiSecret"]);
        Assert.Equal("MESSAGE_ID", d.MaskedSettings["Columns:MessageId"]);
        foreach (var value in d.MaskedSettings.Values) AssertNoSecret(value);
    }

    [Fact]
    public void Validation_messages_and_warnings_never_contain_the_secrets()
    {
        using var host = new TestHost(new Dictionary<string, string?>
        {
            ["Destinations:0:Id"] = "smc-main",
            ["Destinations:0:Type"] = "SelligentMarketingCloud",
            ["Destinations:0:Settings:ApiKey"] = Key,
            ["Destinations:0:Settings:ApiSecret"] = Secret,
            ["Destinations:0:Settings:SmcAdminUrl"] = $"https://{Key}:{Secret}@acme.slgnt.us",
            ["Destinations:0:Settings:Organization"] = "ACME",
            ["Destinations:0:Settings:SendPageEvents"] = Secret,
            ["Destinations:0:Settings:Columns:MessageId"] = "",
            ["Destinations:0:Settings:Api" + "Typo"] = Key,
        });
        var result = host.Create();
        Assert.Equal(3, result.Errors.Count);
        Assert.Equal(2, result.Warnings.Count);
        foreach (var message in result.Errors.Concat(result.Warnings)) AssertNoSecret(message);
        var ex = Assert.Throws<ConfigurationException>(() => DestinationRegistry.Build(host.Configuration, [host.Factory]));
        AssertNoSecret(ex.Message);
    }
}
