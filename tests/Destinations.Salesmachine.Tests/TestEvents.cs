using System.Text.Json.Nodes;
using Destinations.Core.Segment;

namespace Destinations.Salesmachine.Tests;

/// <summary>Events from the copied fixtures, for tests that need a real Segment event rather than a mapping case.</summary>
static class TestEvents
{
    public static SegmentEvent FromFixture(string fixture) =>
        new(JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture)))!["event"]!.DeepClone().AsObject());

    public static SegmentEvent OfType(string type) => new(new JsonObject { ["type"] = type, ["userId"] = "u1", ["messageId"] = "m1" });
}
