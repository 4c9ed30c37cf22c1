using System.Text;
using Destinations.Core.Routing;
using Microsoft.Extensions.Configuration;

namespace Destinations.Core.Tests.Routing;

/// <summary>An instance's <c>Filters</c> are validated at start: each problem names the instance's key path, the filter's
/// index, the key and the rule, and the instance id.</summary>
public class DestinationFilterConfigurationTests
{
    static DestinationRegistry Build(IDictionary<string, string?> settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Sources:0:Id"] = "web",
            ["Destinations:0:Id"] = "crm",
            ["Destinations:0:Type"] = "Fake",
        };
        foreach (var (k, v) in settings) all[k] = v;
        return DestinationRegistry.Build(new ConfigurationBuilder().AddInMemoryCollection(all).Build(), [new FakeDestinationFactory("Fake")]);
    }

    static DestinationRegistry BuildJson(string filtersJson)
    {
        var json = $$"""{"Sources":[{"Id":"web"}],"Destinations":[{"Id":"crm","Type":"Fake","Filters":{{filtersJson}}}]}""";
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        return DestinationRegistry.Build(configuration, [new FakeDestinationFactory("Fake")]);
    }

    static IReadOnlyList<string> Errors(Func<DestinationRegistry> build) => Assert.Throws<ConfigurationException>(() => build()).Errors;

    [Fact]
    public void The_environment_variable_form_reads_every_kind_in_list_order()
    {
        // Destinations__0__Filters__0__drop=… is the key Destinations:0:Filters:0:drop once .NET has read the environment.
        var registry = Build(new Dictionary<string, string?>
        {
            ["Destinations:0:Filters:0:drop"] = "event = \"Test Event\"",
            ["Destinations:0:Filters:1:only"] = "type = \"track\"",
            ["Destinations:0:Filters:2:sample"] = "12.5",
            ["Destinations:0:Filters:2:by"] = "userId",
            ["Destinations:0:Filters:3:dropProperties:0"] = "properties.email",
            ["Destinations:0:Filters:3:dropProperties:1"] = "context.ip",
            ["Destinations:0:Filters:4:allowProperties:0"] = "properties.plan",
        });
        var filters = registry.FiltersOf("crm").All;
        Assert.Equal(["drop", "only", "sample", "dropProperties", "allowProperties"], filters.Select(f => f.Kind));
        Assert.Equal([0, 1, 2, 3, 4], filters.Select(f => f.Index));
        Assert.Equal(new SampleFilter(2, 12.5, SampleBy.UserId), filters[2]);
        Assert.Equal(["properties.email", "context.ip"], ((DropPropertiesFilter)filters[3]).Paths.Select(p => p.Text));
        Assert.Equal("Filters[0] drop: event = \"Test Event\"", filters[0].ToString());
        Assert.Equal("Filters[2] sample: 12.5% by userId", filters[2].ToString());
    }

    [Fact]
    public void Keys_are_matched_without_regard_to_case_like_every_configuration_key()
    {
        var registry = Build(new Dictionary<string, string?>
        {
            ["Destinations:0:Filters:0:DROP"] = "event = \"x\"",
            ["Destinations:0:Filters:1:Sample"] = "10",
            ["Destinations:0:Filters:1:BY"] = "USERID",
            ["Destinations:0:Filters:2:droppropertIES:0"] = "properties.email",
        });
        Assert.Equal(["drop", "sample", "dropProperties"], registry.FiltersOf("crm").All.Select(f => f.Kind));
        Assert.Equal(SampleBy.UserId, ((SampleFilter)registry.FiltersOf("crm").All[1]).By);
    }

    [Fact]
    public void No_filters_or_an_empty_list_means_none()
    {
        Assert.Same(InstanceFilters.None, Build(new Dictionary<string, string?>()).FiltersOf("crm"));
        Assert.Same(InstanceFilters.None, BuildJson("[]").FiltersOf("crm"));
        Assert.Same(InstanceFilters.None, BuildJson("[]").FiltersOf("no-such-instance"));
    }

    [Fact]
    public void A_condition_that_does_not_parse_names_the_instance_the_filter_and_the_position()
    {
        var errors = Errors(() => BuildJson("""[{"sample": 50}, {"drop": "event = \"x\" and )"}]"""));
        Assert.Equal("Destinations[0].Filters[1].drop: unexpected token ')' at 17 (instance 'crm')", string.Join("\n", errors));
        Assert.Equal(["Destinations[0].Filters[0].only: unknown field 'user.id' (use type, event, name, userId, anonymousId, groupId, properties.*, traits.* or context.*) at 1 (instance 'crm')"],
            Errors(() => BuildJson("""[{"only": "user.id = \"u\""}]""")));
        Assert.Equal(["Destinations[0].Filters[0].drop: must be an FQL condition (a string such as: event = \"Test Event\") (instance 'crm')"],
            Errors(() => BuildJson("""[{"drop": ""}]""")));
        Assert.Equal(["Destinations[0].Filters[0].drop: must be an FQL condition (a string such as: event = \"Test Event\") (instance 'crm')"],
            Errors(() => BuildJson("""[{"drop": {"event": "x"}}]""")));
    }

    [Theory]
    [InlineData("101")]
    [InlineData("-1")]
    [InlineData("\"ten\"")]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("[10]")]
    public void A_sample_outside_0_to_100_is_an_error(string value) =>
        Assert.Equal([$"Destinations[0].Filters[0].sample: must be a percentage from 0 to 100 (the share of events kept) (instance 'crm')"],
            Errors(() => BuildJson($$"""[{"sample": {{value}}}]""")));

    [Fact]
    public void By_is_userId_or_messageId_and_only_with_sample()
    {
        Assert.Equal(["Destinations[0].Filters[0].by: must be userId or messageId (instance 'crm')"],
            Errors(() => BuildJson("""[{"sample": 10, "by": "anonymousId"}]""")));
        Assert.Equal(["Destinations[0].Filters[0].by: only a sample filter takes 'by' (instance 'crm')"],
            Errors(() => BuildJson("""[{"drop": "type = \"page\"", "by": "userId"}]""")));
        Assert.Equal(SampleBy.MessageId, ((SampleFilter)BuildJson("""[{"sample": 10, "by": "messageId"}]""").FiltersOf("crm").All[0]).By);
    }

    [Fact]
    public void Unknown_keys_several_kinds_in_one_entry_and_an_entry_without_a_kind_are_errors()
    {
        Assert.Equal(["Destinations[0].Filters[0].dorp: unknown key (known: drop, only, sample, dropProperties, allowProperties, by) (instance 'crm')"],
            Errors(() => BuildJson("""[{"dorp": "type = \"page\"", "only": "type = \"track\""}]""")));
        Assert.Equal(["Destinations[0].Filters[0]: names 2 filters (drop, only); give each its own entry of the list (instance 'crm')"],
            Errors(() => BuildJson("""[{"drop": "type = \"page\"", "only": "type = \"track\""}]""")));
        Assert.Equal(["Destinations[0].Filters[0]: names no filter (one of drop, only, sample, dropProperties, allowProperties) (instance 'crm')"],
            Errors(() => BuildJson("""[{}]""")));
        Assert.Equal(["Destinations[0].Filters[0]: must be an object naming one filter (drop, only, sample, dropProperties, allowProperties), not a value (instance 'crm')"],
            Errors(() => BuildJson("""["drop"]""")));
        Assert.Equal(["Destinations[0].Filters: must be a list of filters, e.g. [{\"drop\": \"type = \\\"page\\\"\"}] (instance 'crm')"],
            Errors(() => BuildJson("\"drop everything\"")));
    }

    [Fact]
    public void Property_lists_may_not_be_empty_and_name_fields_under_properties_traits_or_context()
    {
        Assert.Equal(["Destinations[0].Filters[0].dropProperties: is empty; list at least one field path (instance 'crm')"],
            Errors(() => BuildJson("""[{"dropProperties": []}]""")));
        Assert.Equal(["Destinations[0].Filters[0].allowProperties: is empty; list at least one field path (instance 'crm')"],
            Errors(() => BuildJson("""[{"allowProperties": []}]""")));
        Assert.Equal(["Destinations[0].Filters[0].dropProperties: must be a list of field paths, e.g. [\"properties.email\", \"context.ip\"] (instance 'crm')"],
            Errors(() => BuildJson("""[{"dropProperties": "properties.email"}]""")));
        Assert.Equal(
        [
            "Destinations[0].Filters[0].allowProperties[1]: 'userId' is not under properties, traits or context (name a field such as properties.email, traits.phone or context.ip) (instance 'crm')",
            "Destinations[0].Filters[0].allowProperties[2]: 'properties' is not under properties, traits or context (name a field such as properties.email, traits.phone or context.ip) (instance 'crm')",
            "Destinations[0].Filters[0].allowProperties[3]: 'properties..email' is not a dotted field path (an empty segment) (instance 'crm')",
            "Destinations[0].Filters[0].allowProperties[4]: is empty; name a field such as properties.email (instance 'crm')",
            "Destinations[0].Filters[0].allowProperties[5]: must be a field path (a string) (instance 'crm')",
        ], Errors(() => BuildJson("""[{"allowProperties": ["properties.plan", "userId", "properties", "properties..email", " ", {"a": 1}]}]""")));
    }

    [Fact]
    public void Every_problem_of_every_instance_is_listed_together_with_the_other_configuration_errors()
    {
        var errors = Errors(() => Build(new Dictionary<string, string?>
        {
            ["Destinations:0:Filters:0:sample"] = "200",
            ["Destinations:0:Filters:1:drop"] = "(",
            ["Destinations:1:Id"] = "um",
            ["Destinations:1:Type"] = "Fake",
            ["Destinations:1:Settings:Fail"] = "true",
            ["Destinations:1:Filters:0:only"] = "type =",
        }));
        Assert.Equal(
        [
            "Destinations[0].Filters[0].sample: must be a percentage from 0 to 100 (the share of events kept) (instance 'crm')",
            "Destinations[0].Filters[1].drop: unexpected end of trigger at 2 (instance 'crm')",
            "Destinations[1].Filters[0].only: expected a value (string, number, true, false or null), found end of trigger at 7 (instance 'um')",
            "Destinations[1].Settings.Fail: the fake destination was told to fail",
        ], errors);
    }
}
