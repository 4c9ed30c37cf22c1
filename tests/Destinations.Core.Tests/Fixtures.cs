using System.Text.Json.Nodes;

namespace Destinations.Core.Tests;

/// <summary>Segment sample payloads copied from the shared fixtures (see Fixtures/segment/README.md).</summary>
static class Fixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "segment", name);
    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));
    public static string Text(string name) => File.ReadAllText(Path(name)).Trim();
    public static JsonObject Object(string name) => (JsonObject)JsonNode.Parse(Bytes(name))!;
}

sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public static readonly DateTimeOffset Default = new(2026, 11, 22, 9, 30, 0, 123, TimeSpan.Zero);
    public FixedClock() : this(Default) { }
    public override DateTimeOffset GetUtcNow() => now;
}
