using System.Text;
using Destinations.Core.Routing;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// The compact text of what routing decided for one event, stored on its log row (<c>events.routes</c>, <c>events.filtered</c>):
/// one line per (instance, subscription) or (instance, reason code), tab between the two. Instance ids, subscriptions and
/// reason codes are configuration names (no tab or newline).
/// </summary>
static class LogRoutes
{
    // Both run on the group-commit thread for every event it writes: one pair is one concatenation, and the lists are read
    // by index (a foreach over the interface boxes an enumerator per event).
    public static string? Encode(IReadOnlyList<RoutedDelivery> deliveries)
    {
        if (deliveries.Count == 0) return null;
        if (deliveries.Count == 1) return deliveries[0].DestinationId + "\t" + deliveries[0].Subscription;
        var sb = new StringBuilder();
        for (var i = 0; i < deliveries.Count; i++)
            sb.Append(i == 0 ? "" : "\n").Append(deliveries[i].DestinationId).Append('\t').Append(deliveries[i].Subscription);
        return sb.ToString();
    }

    public static string? EncodeFiltered(IReadOnlyList<RouterFilter> filtered)
    {
        if (filtered.Count == 0) return null;
        if (filtered.Count == 1) return filtered[0].DestinationId + "\t" + filtered[0].Reason.Code;
        var sb = new StringBuilder();
        for (var i = 0; i < filtered.Count; i++)
            sb.Append(i == 0 ? "" : "\n").Append(filtered[i].DestinationId).Append('\t').Append(filtered[i].Reason.Code);
        return sb.ToString();
    }

    /// <summary>
    /// The encoded column of the last list it was given, as UTF-8, for the group-commit thread: the events of a group are
    /// nearly always routed alike (same instances, subscriptions, reasons), so most events reuse the previous event's bytes
    /// instead of building a string and converting it. Equal means equal in what the column holds, element by element.
    /// </summary>
    public sealed class Cache<T>(Func<IReadOnlyList<T>, string?> encode, Func<T, T, bool> same)
    {
        T[] _last = [];
        byte[]? _utf8;

        /// <summary>The column for <paramref name="list"/> as UTF-8; null when the list is empty.</summary>
        public byte[]? Of(IReadOnlyList<T> list)
        {
            if (list.Count == 0) return null;
            if (list.Count == _last.Length)
            {
                var equal = true;
                for (var i = 0; i < list.Count && equal; i++) equal = same(list[i], _last[i]);
                if (equal) return _utf8;
            }
            var last = new T[list.Count];
            for (var i = 0; i < list.Count; i++) last[i] = list[i];
            _utf8 = Encoding.UTF8.GetBytes(encode(list)!);
            _last = last;
            return _utf8;
        }
    }

    /// <summary>The pairs of an encoded column, in order.</summary>
    public static IEnumerable<(string Instance, string Value)> Decode(string? text)
    {
        if (string.IsNullOrEmpty(text)) yield break;
        foreach (var line in text.Split('\n'))
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab > 0) yield return (line[..tab], line[(tab + 1)..]);
        }
    }

    /// <summary>The subscriptions of <paramref name="instance"/> in an encoded routes column.</summary>
    public static List<string> SubscriptionsOf(string? routes, string instance)
    {
        var subs = new List<string>(1);
        foreach (var (i, s) in Decode(routes))
            if (string.Equals(i, instance, StringComparison.Ordinal)) subs.Add(s);
        return subs;
    }

    /// <summary>D5: 64-bit FNV-1a over the messageId's UTF-16 code units, as a signed SQLite integer. Collisions are resolved by
    /// comparing the stored message_id, so the hash needs only to spread, not to be unique.</summary>
    public static long Hash(string messageId)
    {
        var h = 14695981039346656037UL;
        foreach (var c in messageId)
        {
            h = (h ^ (byte)c) * 1099511628211UL;
            h = (h ^ (byte)(c >> 8)) * 1099511628211UL;
        }
        return unchecked((long)h);
    }
}
