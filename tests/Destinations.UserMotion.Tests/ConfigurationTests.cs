using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Routing;

namespace Destinations.UserMotion.Tests;

/// <summary>Start-up validation: settings, the mappings file, the 50-mapping limit (seed), and D22 (no secret in messages).</summary>
public sealed class ConfigurationTests : IDisposable
{
    const string ApiKey = "um-key-5f4e3d2c1b0a";
    readonly string _dir = Directory.CreateTempSubdirectory("um-mappings").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    string WriteMappings(int count, string trigger = "type = \"track\"")
    {
        var list = new JsonArray();
        for (var i = 0; i < count; i++)
            list.Add(new JsonObject { ["name"] = $"m{i}", ["trigger"] = trigger, ["action"] = "track" });
        var path = Path.Combine(_dir, $"mappings-{count}.json");
        File.WriteAllText(path, list.ToJsonString());
        return path;
    }

    static TestHost Host(string? apiKey, string? mappingsFile = null, string? baseUrl = null, string? extraKey = null) => new(new Dictionary<string, string?>
    {
        ["Destinations:0:Id"] = "um-main",
        ["Destinations:0:Type"] = "UserMotion",
        ["Destinations:0:Settings:ApiKey"] = apiKey,
        ["Destinations:0:Settings:BaseUrl"] = baseUrl,
        ["Destinations:0:Settings:" + (extraKey ?? "BaseUrl")] = extraKey is null ? baseUrl : apiKey,
        ["Destinations:0:MappingsFile"] = mappingsFile,
    });

    [Fact]
    public void Without_a_mappings_file_the_three_presets_run()
    {
        using var host = Host(ApiKey);
        var d = (UserMotionDestination)host.Create().Destination!;
        Assert.Equal(["Identify User", "Identify Group", "Track Analytics Event"], d.Mappings.Select(m => m.Name));
        Assert.Equal(["identify", "group", "track"], d.Mappings.Select(m => m.Action.Key));
        Assert.Equal(["type = \"identify\"", "type = \"group\"", "type = \"track\" or type = \"page\""], d.Mappings.Select(m => m.Trigger.Text));
        Assert.Equal("UserMotion (Actions)", d.IntegrationName);
    }

    [Fact]
    public void Fifty_mappings_are_accepted()
    {
        using var host = Host(ApiKey, WriteMappings(50));
        var result = host.Create();
        Assert.Empty(result.Errors);
        Assert.Equal(50, ((UserMotionDestination)result.Destination!).Mappings.Count);
    }

    [Fact]
    public void Fifty_one_mappings_stop_start_up()
    {
        using var host = Host(ApiKey, WriteMappings(51));
        var ex = Assert.Throws<ConfigurationException>(() => DestinationRegistry.Build(host.Configuration, [host.Factory]));
        Assert.Equal(["Destinations[0].MappingsFile: holds 51 mappings; an instance may have at most 50"], ex.Errors);
    }

    [Fact]
    public void A_trigger_syntax_error_names_the_mapping_and_position()
    {
        using var host = Host(ApiKey, WriteMappings(1, "type = \"track\" and"));
        Assert.Equal(["Destinations[0].MappingsFile: mapping 'm0' (index 0): trigger: unexpected end of trigger at 19"], host.Create().Errors);
    }

    [Fact]
    public void A_relative_mappings_file_is_read_from_the_current_directory()
    {
        var absolute = WriteMappings(2);
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), absolute);
        using var host = Host(ApiKey, relative);
        var d = (UserMotionDestination)host.Create().Destination!;
        Assert.Equal(["m0", "m1"], d.Mappings.Select(m => m.Name));
        Assert.Equal(relative, d.MaskedSettings["MappingsFile"]);
    }

    [Fact]
    public void Missing_key_and_bad_base_url_are_reported_together()
    {
        using var host = Host(null, Path.Combine(_dir, "absent.json"), "ftp://x");
        Assert.Equal(
        [
            "Destinations[0].Settings.ApiKey: is required",
            "Destinations[0].Settings.BaseUrl: must be an absolute http(s) URL such as https://api.usermotion.com",
            $"Destinations[0].MappingsFile: the file '{Path.Combine(_dir, "absent.json")}' does not exist (looked for {Path.Combine(_dir, "absent.json")})",
        ], host.Create().Errors);
    }

    static IEnumerable<string> SecretForms()
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        return [ApiKey, B64(ApiKey), $"{ApiKey}:", B64($"{ApiKey}:"), $":{ApiKey}", B64($":{ApiKey}")];
    }

    static void AssertNoSecret(string text)
    {
        foreach (var form in SecretForms()) Assert.DoesNotContain(form, text);
    }

    [Fact]
    public void The_api_key_never_appears_in_ToString_masked_settings_or_messages_D22()
    {
        var settings = new UserMotionSettings { ApiKey = ApiKey };
        Assert.Equal("UserMotionSettings { ApiKey = ********, BaseUrl = https://api.usermotion.com/ }", settings.ToString());
        var destination = new UserMotionDestination("um", settings, UserMotionActions.Presets(), null, () => null!);
        AssertNoSecret(settings.ToString());
        AssertNoSecret(destination.ToString());
        Assert.Equal("********", destination.MaskedSettings["ApiKey"]);
        foreach (var value in destination.MaskedSettings.Values) AssertNoSecret(value ?? "");

        using var host = Host(ApiKey, WriteMappings(51), $"https://user:{ApiKey}@api.usermotion.com", "ApiKeyTypo");
        var result = host.Create();
        Assert.Equal(2, result.Errors.Count);
        Assert.Single(result.Warnings);
        foreach (var message in result.Errors.Concat(result.Warnings)) AssertNoSecret(message);
        var ex = Assert.Throws<ConfigurationException>(() => DestinationRegistry.Build(host.Configuration, [host.Factory]));
        AssertNoSecret(ex.Message);
    }

    [Fact]
    public void Planned_requests_hold_no_secret()
    {
        var destination = TestDestinations.Build(null, new UserMotionSettings { ApiKey = ApiKey });
        var e = new Core.Segment.SegmentEvent(JsonNode.Parse("""{"type":"track","messageId":"m","userId":"u","event":"E"}""")!.AsObject());
        var plan = destination.Map(e, "Track Analytics Event");
        AssertNoSecret(plan.Requests[0].ToString());
        AssertNoSecret(plan.Requests[0].Body!.ToJsonString());
        AssertNoSecret(destination.Describe(plan.Requests[0]).ToString());
    }
}
