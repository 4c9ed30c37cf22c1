using System.Globalization;
using Destinations.Core.Delivery;
using Destinations.Storage.Sqlite;

namespace Destinations.Storage.Tests.Sqlite;

/// <summary>The values the group commit derives per event without the general routines: the ingress's timestamp form read
/// digit by digit, the routes and filter columns reused from the previous event when routed alike, strings bound as UTF-8
/// from a buffer of the call.</summary>
public sealed class GroupWriterValuesTests
{
    [Theory]
    [InlineData("2026-03-01T12:00:00.000Z")]
    [InlineData("1970-01-01T00:00:00.000Z")]
    [InlineData("2024-02-29T23:59:59.999Z")]
    [InlineData("0001-01-01T00:00:00.000Z")]
    [InlineData("9999-12-31T23:59:59.999Z")]
    public void The_ingress_form_reads_as_the_general_parser_reads_it(string text)
    {
        Assert.True(StoredValues.TryUtcMilliseconds(text, out var ms));
        Assert.Equal(DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds(), ms);
    }

    [Theory]
    [InlineData("2026-03-01T12:00:00Z")]         // no milliseconds: the general parser's
    [InlineData("2026-03-01T12:00:00.000+01:00")] // an offset: the general parser's
    [InlineData("2026-03-01 12:00:00.000Z")]
    [InlineData("2026-13-01T12:00:00.000Z")]
    [InlineData("2025-02-29T12:00:00.000Z")]
    [InlineData("2026-03-01T24:00:00.000Z")]
    [InlineData("2026-03-01T12:60:00.000Z")]
    [InlineData("2026-03-01T12:00:60.000Z")]
    [InlineData("2026-03-0xT12:00:00.000Z")]
    [InlineData("0000-03-01T12:00:00.000Z")]
    public void Any_other_form_is_left_to_the_general_parser(string text) =>
        Assert.False(StoredValues.TryUtcMilliseconds(text, out _));

    [Fact]
    public void ReceivedAt_in_another_form_is_still_read_and_an_unreadable_one_falls_back_to_the_commit_time()
    {
        var offset = TestEvents.Track("m-1");
        offset.Json["receivedAt"] = "2026-03-01T13:00:00+01:00";
        Assert.Equal(TestStore.Start.ToUnixTimeMilliseconds(), StoredValues.ReceivedAtMs(new(offset.Json), 7));
        var unreadable = TestEvents.Track("m-2");
        unreadable.Json["receivedAt"] = "yesterday";
        Assert.Equal(7, StoredValues.ReceivedAtMs(new(unreadable.Json), 7));
    }

    [Fact]
    public async Task Events_of_one_group_routed_differently_keep_each_their_own_routes_and_filters()
    {
        await using var store = TestStore.Create();
        RoutedDelivery sm = new("sm", "track"), um = new("um", "Track Calls");
        IncomingEvent[] group =
        [
            TestEvents.Incoming("m-1", [sm], [new RouterFilter("um", FilterReason.IntegrationsOff)]),
            TestEvents.Incoming("m-2", [new("sm", "track")], [new RouterFilter("um", FilterReason.IntegrationsOff)]),
            TestEvents.Incoming("m-3", [sm, um]),
            TestEvents.Incoming("m-4", [um], [new RouterFilter("sm", FilterReason.SourceNotLinked)]),
            TestEvents.Incoming("m-5", [new("um", "Identify Calls")], [new RouterFilter("sm", FilterReason.IntegrationsOff)]),
            TestEvents.Incoming("m-6", [], [new RouterFilter("sm", FilterReason.IntegrationsOff)]),
            TestEvents.Incoming("m-7", [sm]),
        ];
        Assert.All(await store.Store.AcceptAsync(group, CancellationToken.None), s => Assert.Equal(AcceptStatus.Stored, s));
        // The next group starts from the last event's routing.
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.Incoming("m-8", [sm, um])));
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.Incoming("m-9", [sm])));

        var rows = await store.QueryAsync<(string Message, string? Routes, string? Filtered)>(
            "SELECT message_id, routes, filtered FROM events ORDER BY seq");
        Assert.Equal(
        [
            ("m-1", "sm\ttrack", "um\tintegrations_off"),
            ("m-2", "sm\ttrack", "um\tintegrations_off"),
            ("m-3", "sm\ttrack\num\tTrack Calls", null),
            ("m-4", "um\tTrack Calls", "sm\tsource_not_linked"),
            ("m-5", "um\tIdentify Calls", "sm\tintegrations_off"),
            ("m-6", null, "sm\tintegrations_off"),
            ("m-7", "sm\ttrack", null),
            ("m-8", "sm\ttrack\num\tTrack Calls", null),
            ("m-9", "sm\ttrack", null),
        ], rows);
    }

    [Fact]
    public async Task Text_values_are_stored_as_given_long_and_beyond_ascii()
    {
        await using var store = TestStore.Create();
        var longId = "m-" + new string('é', 300) + "-😀";
        string[] ids = ["m-ü-中文-😀", longId];
        foreach (var id in ids)
            Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(new IncomingEvent("wéb", TestEvents.Track(id, userId: "ü-" + id), new([new("sm", "trück")], []))));

        var rows = await store.QueryAsync<(string Source, string Message, string UserKey, string Routes)>(
            "SELECT source_id, message_id, user_key, routes FROM events ORDER BY seq");
        Assert.Equal(ids.Select(id => ("wéb", id, "ü-" + id, "sm\ttrück")), rows);
        // Found again by the dedupe look-up, which compares the stored message_id with the string.
        Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(new IncomingEvent("wéb", TestEvents.Track(longId), new([new("sm", "trück")], []))));
    }
}
