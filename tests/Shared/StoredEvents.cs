using System.Text.Json.Nodes;
using Destinations.Core.Segment;

namespace Destinations.Testing;

/// <summary>
/// Events as the store holds them, for the tests that map a stored event from its bytes and compare the result with what
/// mapping through the event's DOM wrote (linked file). The expected lines are recorded once with the DOM mapper
/// (<see cref="ExpectedLines"/>), so the comparison is with that mapper, not with the one under test.
/// </summary>
public static class StoredEvents
{
    /// <summary>Every Segment event in the core test fixtures and the shared ones (a batch's events one by one), compact.</summary>
    public static IEnumerable<(string Name, string Stored)> Segment()
    {
        var root = Repository.Root();
        var dirs = new[]
        {
            ("core", Path.Combine(root, "tests", "Destinations.Core.Tests", "Fixtures", "segment")),
            ("shared", Path.GetFullPath(Path.Combine(root, "..", "shared", "fixtures", "segment"))),
        };
        foreach (var (label, dir) in dirs)
        {
            Assert.True(Directory.Exists(dir), dir);
            foreach (var file in Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal))
            {
                var events = JsonNode.Parse(File.ReadAllText(file)) switch
                {
                    JsonObject o when o["batch"] is JsonArray batch => batch.OfType<JsonObject>().ToList(),
                    JsonObject o => [o],
                    JsonArray a => a.OfType<JsonObject>().ToList(),
                    _ => [],
                };
                for (var i = 0; i < events.Count; i++)
                    if (events[i]["type"] is JsonValue) yield return ($"{label}/{Path.GetFileName(file)}#{i}", events[i].ToJsonString());
            }
        }
    }

    /// <summary>The <c>event</c> of each of the test project's own <c>Fixtures/*.json</c>, compact.</summary>
    public static IEnumerable<(string Name, string Stored)> OwnFixtures()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Fixtures");
        foreach (var file in Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal))
            if (JsonNode.Parse(File.ReadAllText(file))?["event"] is JsonObject e)
                yield return ($"fixture/{Path.GetFileName(file)}", e.ToJsonString());
    }

    /// <summary>
    /// The expected lines (name → line) from <c>MappedBytes/expected.txt</c> in the output directory. With the environment
    /// variable <c>MAPPED_BYTES_WRITE</c> set to a path, writes what <paramref name="record"/> gives there instead (run on the
    /// DOM mapper to make the file) and fails, so a recording run never passes.
    /// </summary>
    public static Dictionary<string, string> ExpectedLines(Func<IEnumerable<(string Name, string Line)>> record)
    {
        if (Environment.GetEnvironmentVariable("MAPPED_BYTES_WRITE") is { Length: > 0 } path)
        {
            File.WriteAllLines(path, record().Select(r => $"{r.Name}\t{r.Line}"));
            Assert.Fail($"wrote {path}");
        }
        var expected = Path.Combine(AppContext.BaseDirectory, "MappedBytes", "expected.txt");
        return File.ReadAllLines(expected).Select(l => l.Split('\t', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
    }

    /// <summary>The outcome written as one line, or the type of exception, so both ways of mapping can be compared as text.</summary>
    public static string Line(Func<string> write)
    {
        try { return write(); }
        catch (Exception ex) { return "threw " + ex.GetType().Name; }
    }

    /// <summary>
    /// Maps each stored event twice — from its bytes, and with its DOM built first (as a destination filter or a condition
    /// builds it) — and lists every outcome (<see cref="Line"/>) that differs from the expected line; <paramref name="count"/>
    /// is how many events were mapped.
    /// </summary>
    public static List<string> Differences(IEnumerable<(string Name, string Stored, Func<SegmentEvent, string> Write)> events,
        IReadOnlyDictionary<string, string> expected, out int count)
    {
        var differences = new List<string>();
        count = 0;
        foreach (var (name, stored, write) in events)
        {
            count++;
            var fromBytes = Line(() => write(SegmentEvent.FromStored(stored)));
            var withDom = Line(() =>
            {
                var e = SegmentEvent.FromStored(stored);
                _ = e.Json;
                return write(e);
            });
            if (fromBytes != expected[name]) differences.Add($"{name}\n  expected {expected[name]}\n  stored   {fromBytes}");
            if (withDom != expected[name]) differences.Add($"{name}\n  expected {expected[name]}\n  with DOM {withDom}");
        }
        return differences;
    }

    /// <summary>
    /// True while the event's DOM has not been built: <see cref="SegmentEvent.CurrentUtf8Json"/> then returns the stored bytes
    /// themselves, the same array each time (once built, each call writes the DOM anew).
    /// </summary>
    public static bool HasNoDom(SegmentEvent e) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(e.CurrentUtf8Json(), out var first)
        && System.Runtime.InteropServices.MemoryMarshal.TryGetArray(e.CurrentUtf8Json(), out var second)
        && ReferenceEquals(first.Array, second.Array);
}
