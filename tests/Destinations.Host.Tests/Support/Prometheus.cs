using System.Globalization;

namespace Destinations.Host.Tests.Support;

/// <summary>Reads samples from the Prometheus text format: <c>name{label="value",…} number [timestamp]</c>.</summary>
static class Prometheus
{
    /// <summary>The value of the one sample of <paramref name="name"/> carrying every given label, or null when none does.</summary>
    public static double? Sample(string scrape, string name, params (string Label, string Value)[] labels)
    {
        var matches = scrape.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(l => labels.All(x => l.Contains($"{x.Label}=\"{x.Value}\"", StringComparison.Ordinal)))
            .ToList();
        if (matches.Count == 0) return null;
        var line = Assert.Single(matches);
        var afterLabels = line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ');
        return double.Parse(afterLabels[0], CultureInfo.InvariantCulture);
    }
}
