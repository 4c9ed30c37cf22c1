using System.Text.Json.Nodes;
using Destinations.Core.Segment;

namespace Destinations.Selligent.Tests;

/// <summary>Events and settings from the copied fixtures, for tests that need a real Segment event rather than a mapping case.</summary>
static class TestEvents
{
    public const string Key = "key-7c6b5a4d3e2f";
    public const string Secret = "sec-0f1e2d3c4b5a";

    public static JsonObject Fixture(string fixture) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture)))!.AsObject();

    public static SegmentEvent FromFixture(string fixture) => new(Fixture(fixture)["event"]!.DeepClone().AsObject());

    public static SegmentEvent OfType(string type) => new(new JsonObject { ["type"] = type, ["userId"] = "u1", ["messageId"] = "m1" });

    /// <summary>Settings as a fixture's <c>settings</c> object overrides them (the same names as configuration).</summary>
    public static SelligentSettings Settings(JsonObject? o, string adminUrl = "https://acme.slgnt.us") => new()
    {
        ApiKey = Key,
        ApiSecret = Secret,
        SmcAdminUrl = new Uri(adminUrl),
        Organization = o?["Organization"]?.GetValue<string>() ?? "ACME",
        EventsDataListApiName = o?["EventsDataListApiName"]?.GetValue<string>() ?? "segment_events",
        AllowedEvents = (o?["AllowedEvents"] as JsonArray ?? []).Select(n => n!.GetValue<string>()).ToHashSet(StringComparer.Ordinal),
        SendAliasEvents = o?["SendAliasEvents"]?.GetValue<bool>() ?? false,
        SendGroupEvents = o?["SendGroupEvents"]?.GetValue<bool>() ?? false,
        SendPageEvents = o?["SendPageEvents"]?.GetValue<bool>() ?? false,
        SendScreenEvents = o?["SendScreenEvents"]?.GetValue<bool>() ?? false,
        Columns = new SelligentColumns
        {
            MessageId = o?["Columns"]?["MessageId"]?.GetValue<string>() ?? "MESSAGE_ID",
            Context = o?["Columns"]?["Context"]?.GetValue<string>() ?? "CONTEXT",
        },
    };
}
