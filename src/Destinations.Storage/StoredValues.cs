using System.Globalization;
using Destinations.Core.Segment;

namespace Destinations.Storage;

/// <summary>Values both stores derive the same way when they write accepted events and counters.</summary>
static class StoredValues
{
    /// <summary>The UTC day a counter row belongs to (filter and duplicate counters are kept per day, D17).</summary>
    public static string Day(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The event's <c>receivedAt</c> in Unix ms (the ingress always sets one); the commit time when it cannot be read.</summary>
    public static long ReceivedAtMs(SegmentEvent e, long fallbackMs) =>
        e.ReceivedAt is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t.ToUnixTimeMilliseconds()
            : fallbackMs;
}
