using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Microsoft.Extensions.Configuration;

namespace Destinations.Core.Tests.Routing;

/// <summary>
/// Every destination filter kind, driven by <c>Fixtures/filters/*.json</c>: an instance's <c>Filters</c> exactly as written in
/// appsettings.json, and cases of an event with what should happen to it — dropped at routing (with the reason code and the
/// filter's index), or routed with the event the mapper sees and the fields removed. Adding a case is adding JSON.
/// </summary>
public class DestinationFilterFixtureTests
{
    static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "filters");

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Directory.GetFiles(Dir, "*.json").Order(StringComparer.Ordinal))
            foreach (var c in Load(file)["cases"]!.AsArray())
                data.Add(Path.GetFileName(file), c!["name"]!.GetValue<string>());
        return data;
    }

    static JsonObject Load(string file) => (JsonObject)JsonNode.Parse(File.ReadAllText(file))!;

    [Fact]
    public void Every_filter_kind_has_a_fixture()
    {
        var kinds = Directory.GetFiles(Dir, "*.json")
            .SelectMany(f => Load(f)["filters"]!.AsArray().SelectMany(x => x!.AsObject().Select(p => p.Key)))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Superset(kinds, new HashSet<string>(["drop", "only", "sample", "by", "dropProperties", "allowProperties"]));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fixture(string file, string name)
    {
        var fixture = Load(Path.Combine(Dir, file));
        var c = fixture["cases"]!.AsArray().Single(x => x!["name"]!.GetValue<string>() == name)!;
        var expect = c["expect"]!;

        JsonObject? seen = null;
        var registry = RegistryWith(fixture["filters"]!, d => d.Mapping = (e, _) =>
        {
            seen = (JsonObject)e.Json.DeepClone();
            return MappingResult.Send(PartnerRequest.Post("event", "/e", new JsonObject()));
        });
        var destination = registry.Find("crm")!;
        var eventJson = c["event"]!.AsObject();

        var decision = new Router(registry).Route("web", new SegmentEvent((JsonObject)eventJson.DeepClone()));

        if (!expect["routed"]!.GetValue<bool>())
        {
            Assert.Empty(decision.Deliveries);
            var filtered = Assert.Single(decision.Filtered);
            Assert.Equal(expect["reason"]!.GetValue<string>(), filtered.Reason.Code);
            Assert.NotNull(filtered.Filter);
            Assert.Equal(expect["filter"]!.GetValue<int>(), filtered.Filter.Index);
            Assert.StartsWith($"Filters[{filtered.Filter.Index}] {filtered.Filter.Kind}: ", filtered.Detail);
            return;
        }

        Assert.Empty(decision.Filtered);
        var routed = Assert.Single(decision.Deliveries);
        // As the dispatcher does: the stored event, read back, through the registry to the mapper.
        var (result, removed) = registry.Map(destination, SegmentEvent.FromStored(eventJson.ToJsonString()), routed.Subscription);
        Assert.Equal(MappingOutcome.Send, result.Outcome);
        var expected = (expect["mapperInput"] ?? eventJson).ToJsonString();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), seen), $"mapper saw {seen!.ToJsonString()}\nexpected {expected}");
        var expectedRemoved = (expect["removed"]?.AsArray() ?? [])
            .Select(r => new RemovedField(r!["filter"]!.GetValue<int>(), r["kind"]!.GetValue<string>(), r["path"]!.GetValue<string>()));
        Assert.Equal(expectedRemoved, removed);
    }

    /// <summary>The registry as the service builds it, from configuration written as JSON (as appsettings.json holds it).</summary>
    static DestinationRegistry RegistryWith(JsonNode filters, Action<FakeDestination> configure)
    {
        var json = new JsonObject
        {
            ["Sources"] = new JsonArray(new JsonObject { ["Id"] = "web" }),
            ["Destinations"] = new JsonArray(new JsonObject { ["Id"] = "crm", ["Type"] = "Fake", ["Filters"] = filters.DeepClone() }),
        };
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json.ToJsonString()))).Build();
        return DestinationRegistry.Build(configuration, [new FakeDestinationFactory("Fake", configure: configure)]);
    }
}
