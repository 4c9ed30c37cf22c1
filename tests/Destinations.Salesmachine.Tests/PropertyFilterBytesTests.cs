using static Destinations.Salesmachine.Tests.WrittenBodies;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Configuration;
using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Microsoft.Extensions.Configuration;

namespace Destinations.Salesmachine.Tests;

/// <summary>
/// A stored event without a DOM is filtered on its bytes (<see cref="InstanceFilters.Apply(SegmentEvent, out SegmentEvent)"/>);
/// one whose DOM was built is filtered in the DOM. For every core and shared Segment fixture (and stored forms with escaped
/// names, whitespace and repeated names) × a set of drop/allow filters, both must remove the same fields in the same order,
/// leave the same event, and map to the same Salesmachine bytes.
/// </summary>
public sealed class PropertyFilterBytesTests
{
    static readonly SalesmachineSettings Settings = new() { ApiToken = "t", ApiSecret = "s", AliasPath = "/v1/alias" };

    /// <summary>Each set is an instance's <c>Filters</c>: (kind, paths) in list order.</summary>
    static readonly (string Kind, string[] Paths)[][] FilterSets =
    [
        [("dropProperties", ["context.ip", "properties.email"])],
        // Nested, a deeper path listed before the one above it, absent paths.
        [("dropProperties", ["properties.a.b", "properties.a", "context.page.url", "traits.email", "properties.missing.deep", "context.library.name"])],
        // The same path twice and a deeper one after it: the DOM no longer finds them.
        [("dropProperties", ["properties.a", "properties.a.b", "properties.a", "traits.address.city", "traits.address"])],
        // Through values that are not objects (a string, an array, a number).
        [("dropProperties", ["properties.name.x", "properties.products.sku", "context.ip.v4", "properties.revenue.cents"])],
        [("allowProperties", ["properties.revenue", "properties.name", "traits.email", "context.page.url"])],
        // Roots listed in another order than the event's; nested allow lists; a shorter path that keeps a longer one whole.
        [("allowProperties", ["context.ip", "properties.a.b", "traits.address.city", "context.page", "context.page.title"])],
        // Through an array or a string: the value is removed.
        [("allowProperties", ["properties.products.sku", "properties.name.first", "context.library.version"])],
        [("allowProperties", ["properties.köpt", "properties.\"q\"", "traits.plan"])],
        [("dropProperties", ["properties.köpt", "properties.email", "traits.é"])],
        // Several filters, each on what the one before left.
        [("dropProperties", ["properties.email"]), ("allowProperties", ["properties.email", "properties.total", "properties.a", "context.library", "context.ip"]),
         ("dropProperties", ["context.library.name", "properties.a.b"]), ("allowProperties", ["context.library.version", "context.ip"])],
    ];

    const int ThroughNonObjects = 3;

    /// <summary>Stored forms the fixtures do not have.</summary>
    static readonly (string Name, string Stored)[] Cases =
    [
        ("nested", """{"type":"track","event":"E","userId":"u1","messageId":"n1","properties":{"a":{"b":1,"c":{"d":2}},"email":"x@example.com","total":3,"products":[{"sku":"s"}],"name":"n","revenue":4},"context":{"ip":"198.51.100.1","page":{"url":"u","title":"t","x":1},"library":{"name":"l","version":"1"},"groupId":"g"},"traits":{"email":"e","address":{"city":"c","street":"s"},"plan":"p"}}"""),
        ("escaped-names", """{"type":"track","event":"E","userId":"u1","messageId":"n2","prop\u0065rties":{"k\u00f6pt":1,"em\u0061il":"x","\"q\"":2,"z":"\u00e9\n"},"context":{"\u0069p":"1.2.3.4","groupId":"g"}}"""),
        ("unescaped-unicode", """{"type":"identify","userId":"u1","messageId":"n3","traits":{"é":1,"plan":"Zoë <b>","email":"a"},"context":{"ip":"x"}}"""),
        ("spaced", """ { "type" : "track" , "event" : "E", "userId":"u1","messageId":"n4", "properties" : { "a" : { "b" : [ 1 , 2 ] } , "email" : null } , "context" : { "ip" : "x" } } """),
        ("not-objects", """{"type":"track","event":"E","userId":"u1","messageId":"n5","properties":[1],"context":"c","traits":null}"""),
        ("repeated-in-properties", """{"type":"track","event":"E","userId":"u1","messageId":"n6","properties":{"email":"a","email":"b","n":1},"context":{"ip":"x"}}"""),
        ("repeated-at-top", """{"type":"track","event":"E","userId":"u1","messageId":"n7","properties":{"email":"a"},"properties":{"n":1}}"""),
        ("repeated-under-dropped", """{"type":"track","event":"E","userId":"u1","messageId":"n8","properties":{"a":{"b":1,"b":2},"n":1}}"""),
        ("repeated-escaped", """{"type":"track","event":"E","userId":"u1","messageId":"n9","properties":{"email":"a","em\u0061il":"b"},"context":{"ip":"x"}}"""),
        // Past the count of names compared as bytes: the rest are compared as strings.
        ("many-members", "{\"type\":\"track\",\"event\":\"E\",\"userId\":\"u1\",\"messageId\":\"n10\",\"properties\":{"
            + string.Join(",", Enumerable.Range(0, 40).Select(i => $"\"k{i}\":{i}")) + ",\"email\":\"e\",\"a\":{\"b\":1}},\"context\":{\"ip\":\"x\"}}"),
        ("repeated-many-members", "{\"type\":\"track\",\"event\":\"E\",\"userId\":\"u1\",\"messageId\":\"n11\",\"properties\":{"
            + string.Join(",", Enumerable.Range(0, 40).Select(i => $"\"k{i}\":{i}")) + ",\"k3\":0},\"context\":{\"ip\":\"x\"}}"),
    ];

    public static TheoryData<string, int> Pairs()
    {
        var data = new TheoryData<string, int>();
        foreach (var (name, _) in Events())
            for (var s = 0; s < FilterSets.Length; s++) data.Add(name, s);
        return data;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Filtering_the_stored_bytes_is_filtering_the_DOM(string name, int set)
    {
        var stored = Events().Single(e => e.Name == name).Stored;
        var (registry, destination) = Registry(FilterSets[set]);
        var type = JsonDocument.Parse(stored).RootElement.GetProperty("type").GetString()!;

        var dom = Outcome(() =>
        {
            var e = SegmentEvent.FromStored(stored);
            _ = e.Json;
            var mapped = registry.Map(destination, e, type);
            return (Removed(mapped.Removed), e.Json.ToJsonString(), Written(mapped.Result));
        });
        var bytes = Outcome(() =>
        {
            var mapped = registry.Map(destination, SegmentEvent.FromStored(stored), type);
            registry.FiltersOf(destination.Id).Apply(SegmentEvent.FromStored(stored), out var filtered);
            return (Removed(mapped.Removed), JsonNode.Parse(filtered.CurrentUtf8Json().Span)!.ToJsonString(), Written(mapped.Result));
        });

        Assert.Equal(dom, bytes);
    }

    [Fact]
    public void A_name_twice_where_a_filter_looks_is_refused_by_the_DOM_on_both_paths()
    {
        // JsonNode parses a repeated name, but looking a member up in that object throws; the bytes path leaves it to the DOM.
        var (registry, destination) = Registry(FilterSets[0]);
        var stored = Cases.Single(c => c.Name == "repeated-in-properties").Stored;
        Assert.Throws<ArgumentException>(() => registry.Map(destination, SegmentEvent.FromStored(stored), "track"));
        var withDom = SegmentEvent.FromStored(stored);
        _ = withDom.Json;
        Assert.Throws<ArgumentException>(() => registry.Map(destination, withDom, "track"));
    }

    [Fact]
    public void The_filter_sets_remove_something_from_most_events()
    {
        // Guards the pairs above against comparing nothing: each set removes fields from at least one event, but the one
        // whose paths all lead through values that are not objects, which removes nothing anywhere.
        for (var s = 0; s < FilterSets.Length; s++)
        {
            if (s == ThroughNonObjects) continue;
            var (registry, destination) = Registry(FilterSets[s]);
            var removedAny = Events().Any(e =>
            {
                try { return registry.FiltersOf(destination.Id).Apply(SegmentEvent.FromStored(e.Stored), out _).Count > 0; }
                catch (Exception) { return false; }
            });
            Assert.True(removedAny, $"filter set {s} removes nothing from any event");
        }
        var (r3, d3) = Registry(FilterSets[ThroughNonObjects]);
        Assert.All(Events().Where(e => !e.Name.StartsWith("repeated-", StringComparison.Ordinal)),
            e => Assert.Empty(r3.FiltersOf(d3.Id).Apply(SegmentEvent.FromStored(e.Stored), out _)));
    }

    [Fact]
    public void A_stored_event_is_filtered_without_changing_it_and_an_event_with_a_DOM_in_place()
    {
        var stored = Cases[0].Stored;
        var (registry, destination) = Registry(FilterSets[0]);
        var filters = registry.FiltersOf(destination.Id);

        var e = SegmentEvent.FromStored(stored);
        Assert.Equal(["context.ip", "properties.email"], filters.Apply(e, out var filtered).Select(r => r.Path));
        Assert.NotSame(e, filtered);
        Assert.Equal("x@example.com", e.Json["properties"]!["email"]!.GetValue<string>());
        Assert.Null(filtered.Json["properties"]!["email"]);

        var withDom = SegmentEvent.FromStored(stored);
        _ = withDom.Json;
        Assert.Equal(2, filters.Apply(withDom, out var same).Count);
        Assert.Same(withDom, same);
        Assert.Null(withDom.Json["properties"]!["email"]);
    }

    /// <summary>The result, or the type of exception both paths must throw alike.</summary>
    static string Outcome(Func<(string Removed, string Event, string Written)> run)
    {
        try { return run().ToString(); }
        catch (Exception ex) { return "threw " + ex.GetType().Name; }
    }

    static string Removed(IReadOnlyList<RemovedField> removed) => string.Join(", ", removed.Select(r => $"{r.Filter}/{r.Kind}/{r.Path}"));

    static (DestinationRegistry, IDestination) Registry((string Kind, string[] Paths)[] set)
    {
        var config = new Dictionary<string, string?>();
        for (var f = 0; f < set.Length; f++)
            for (var p = 0; p < set[f].Paths.Length; p++)
                config[$"Filters:{f}:{set[f].Kind}:{p}"] = set[f].Paths[p];
        var errors = new List<string>();
        var filters = DestinationFilterReader.Read(new ConfigurationBuilder().AddInMemoryCollection(config).Build().GetSection("Filters"),
            "Destinations:0:Filters", "sm", errors);
        Assert.Empty(errors);
        var destination = new SalesmachineDestination("sm", Settings, () => throw new InvalidOperationException("nothing is sent"));
        var registry = new DestinationRegistry([new SourceOptions { Id = "web", AllowUnsigned = true }], [(destination, null)], [],
            filters: new Dictionary<string, InstanceFilters>(StringComparer.Ordinal) { ["sm"] = filters });
        return (registry, destination);
    }

    /// <summary>Every Segment event in the core test fixtures and the shared ones (a batch's events one by one), then the cases.</summary>
    static IEnumerable<(string Name, string Stored)> Events() => StoredEvents.Segment().Concat(Cases);
}
