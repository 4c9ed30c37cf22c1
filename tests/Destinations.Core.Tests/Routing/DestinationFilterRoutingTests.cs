using System.Text.Json.Nodes;
using Destinations.Core.Configuration;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Destinations.Core.Routing;
using Destinations.Core.Segment;

namespace Destinations.Core.Tests.Routing;

/// <summary>Where destination filters sit in routing: after the source link, deletion and the Integrations object, before
/// any trigger; per instance; and the sample's share and stability.</summary>
public class DestinationFilterRoutingTests
{
    static Router RouterFor(params (FakeDestination D, string[]? Sources, DestinationFilter[] Filters)[] destinations) =>
        new(new DestinationRegistry(
            [new SourceOptions { Id = "web" }, new SourceOptions { Id = "app" }],
            destinations.Select(d => ((IDestination)d.D, (IReadOnlyList<string>?)d.Sources)).ToList(),
            [], null,
            destinations.ToDictionary(d => d.D.Id, d => new InstanceFilters(d.Filters))));

    static SegmentEvent Event(string json) => new((JsonObject)JsonNode.Parse(json)!);

    static readonly DestinationFilter DropTracks = new DropFilter(0, Fql.Parse("type = \"track\""));

    [Fact]
    public void Filters_act_before_the_triggers_so_a_dropped_event_is_counted_as_the_filter_not_as_no_trigger()
    {
        // The fake takes identify only: without the filter a track is call_type_not_accepted (a trigger-time answer).
        var router = RouterFor((new FakeDestination("crm", "Fake", "identify"), null, [DropTracks]));
        var filtered = Assert.Single(router.Route("web", Event("""{"type":"track","event":"E","userId":"u","messageId":"m"}""")).Filtered);
        Assert.Equal(new RouterFilter("crm", FilterReason.FilterDrop, "Filters[0] drop: type = \"track\"", DropTracks), filtered);

        var page = Assert.Single(router.Route("web", Event("""{"type":"page","name":"Home","userId":"u","messageId":"m"}""")).Filtered);
        Assert.Equal(FilterReason.CallTypeNotAccepted, page.Reason);
        Assert.Null(page.Filter);
    }

    [Fact]
    public void The_source_link_deletion_and_the_Integrations_object_are_decided_first()
    {
        var router = RouterFor((new FakeDestination("crm", "Fake", "track", "delete"), ["web"], [DropTracks]));
        Assert.Equal(FilterReason.SourceNotLinked,
            Assert.Single(router.Route("app", Event("""{"type":"track","event":"E","userId":"u"}""")).Filtered).Reason);
        Assert.Equal(FilterReason.IntegrationsOff,
            Assert.Single(router.Route("web", Event("""{"type":"track","event":"E","userId":"u","integrations":{"crm":false}}""")).Filtered).Reason);
        Assert.Equal(FilterReason.DeleteNotSupported,
            Assert.Single(router.Route("web", Event("""{"type":"delete","userId":"u"}""")).Filtered).Reason);
    }

    [Fact]
    public void Filters_belong_to_their_instance()
    {
        var router = RouterFor(
            (new FakeDestination("filtered"), null, [DropTracks]),
            (new FakeDestination("open"), null, []));
        var decision = router.Route("web", Event("""{"type":"track","event":"E","userId":"u","messageId":"m"}"""));
        Assert.Equal(["open"], decision.Deliveries.Select(d => d.DestinationId));
        Assert.Equal("filtered", Assert.Single(decision.Filtered).DestinationId);
    }

    static string NewId(Random random) => $"msg-{random.Next():x8}-{random.Next():x8}";

    [Fact]
    public void A_sample_keeps_about_its_share_and_a_smaller_share_is_inside_a_larger_one()
    {
        var random = new Random(4711);
        var ids = Enumerable.Range(0, 20_000).Select(_ => NewId(random)).ToList();
        var ten = ids.Where(id => SampleHash.Keeps(id, 10)).ToHashSet();
        var twenty = ids.Where(id => SampleHash.Keeps(id, 20)).ToHashSet();
        Assert.InRange(ten.Count, 1_800, 2_200);
        Assert.InRange(twenty.Count, 3_700, 4_300);
        Assert.Subset(twenty, ten);
        Assert.DoesNotContain(ids, id => SampleHash.Keeps(id, 0));
        Assert.All(ids.Take(100), id => Assert.True(SampleHash.Keeps(id, 100)));
    }

    [Fact]
    public void The_same_event_makes_the_same_choice_on_another_router_as_a_replay_or_another_replica_would()
    {
        var random = new Random(17);
        var sample = new DestinationFilter[] { new SampleFilter(0, 50, SampleBy.MessageId) };
        var first = RouterFor((new FakeDestination("crm"), null, sample));
        var second = RouterFor((new FakeDestination("crm"), null, sample));
        var outcomes = Enumerable.Range(0, 200).Select(_ => Event($$"""{"type":"track","event":"E","userId":"u","messageId":"{{NewId(random)}}"}"""))
            .Select(e => (first.Route("web", e).Deliveries.Count, second.Route("web", e).Deliveries.Count)).ToList();
        Assert.All(outcomes, o => Assert.Equal(o.Item1, o.Item2));
        Assert.Contains(outcomes, o => o.Item1 == 0);
        Assert.Contains(outcomes, o => o.Item1 == 1);
    }

    [Fact]
    public void Sampling_by_userId_keeps_or_drops_all_of_a_users_events_and_falls_back_to_anonymousId_then_messageId()
    {
        var router = RouterFor((new FakeDestination("crm"), null, [new SampleFilter(0, 50, SampleBy.UserId)]));
        var random = new Random(99);
        for (var user = 0; user < 40; user++)
        {
            var decisions = Enumerable.Range(0, 5)
                .Select(_ => router.Route("web", Event($$"""{"type":"track","event":"E","userId":"user-{{user}}","messageId":"{{NewId(random)}}"}""")).Deliveries.Count)
                .Distinct().ToList();
            Assert.Single(decisions);
        }
        var anonymous = Event("""{"type":"track","event":"E","anonymousId":"anon-5","messageId":"msg-0002"}""");
        Assert.Equal("anon-5", SampleHash.KeyOf(anonymous, SampleBy.UserId));
        Assert.Equal("msg-0002", SampleHash.KeyOf(anonymous, SampleBy.MessageId));
        Assert.Equal("m-9", SampleHash.KeyOf(Event("""{"type":"track","event":"E","messageId":"m-9"}"""), SampleBy.UserId));
        Assert.Equal("u-1", SampleHash.KeyOf(Event("""{"type":"track","event":"E","userId":"u-1","anonymousId":"a","messageId":"m-9"}"""), SampleBy.UserId));
    }

    [Fact]
    public void The_hash_is_the_documented_one()
    {
        // First 4 bytes of SHA-256("msg-0004") are 0x64 0xC9 0xE3 0x77 (computed with Python's hashlib: 1690952567).
        Assert.Equal(1_690_952_567u, SampleHash.Bucket("msg-0004"));
        Assert.Equal(3_220_793_857u, SampleHash.Bucket("ünïcødé-1"));
        Assert.Equal(SampleHash.Bucket(new string('x', 300) + "é"), SampleHash.Bucket(new string('x', 300) + "é")); // the long-key path
    }
}
