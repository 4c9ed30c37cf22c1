using System.Globalization;

namespace Destinations.Webhook;

/// <summary>
/// The hosts an instance may send to (<c>Settings.AllowedHosts</c>): exact names (case-insensitive), <c>*.example.com</c> for
/// every subdomain of example.com but not example.com itself, any port unless an entry names one (<c>host:port</c>).
/// </summary>
public sealed class AllowedHosts
{
    readonly record struct Entry(string Host, bool Wildcard, int? Port, string Text);

    readonly Entry[] _entries;

    AllowedHosts(Entry[] entries) => _entries = entries;

    public IReadOnlyList<string> Entries => _entries.Select(e => e.Text).ToArray();

    /// <summary>Parses the configured entries; an error per bad entry, naming it by index (entries hold no secret).</summary>
    public static (AllowedHosts? Hosts, IReadOnlyList<string> Errors) Parse(IReadOnlyList<string> entries, string at)
    {
        var errors = new List<string>();
        var parsed = new List<Entry>();
        for (var i = 0; i < entries.Count; i++)
        {
            var text = entries[i].Trim();
            var host = text;
            int? port = null;
            var colon = text.LastIndexOf(':');
            if (colon > 0 && !text.EndsWith(']'))
            {
                if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
                {
                    errors.Add($"{at}[{i}]: '{text}': the port must be a number from 1 to 65535");
                    continue;
                }
                port = p;
                host = text[..colon];
            }
            var wildcard = host.StartsWith("*.", StringComparison.Ordinal);
            var name = wildcard ? host[2..] : host;
            if (name.Length == 0 || name.Contains('*') || name.Contains('/') || Uri.CheckHostName(name.Trim('[', ']')) == UriHostNameType.Unknown)
            {
                errors.Add($"{at}[{i}]: '{text}': expected a host name such as api.example.com, *.example.com or api.example.com:8443");
                continue;
            }
            parsed.Add(new Entry(name.Trim('[', ']').ToLowerInvariant(), wildcard, port, text));
        }
        if (parsed.Count == 0 && errors.Count == 0) errors.Add($"{at}: is required: list the hosts this instance may send to");
        return errors.Count > 0 ? (null, errors) : (new AllowedHosts([.. parsed]), []);
    }

    public bool Allows(Uri url)
    {
        var host = url.IdnHost.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        foreach (var e in _entries)
        {
            if (e.Port is { } port && port != url.Port) continue;
            if (e.Wildcard ? host.EndsWith("." + e.Host, StringComparison.Ordinal) : host == e.Host) return true;
        }
        return false;
    }
}
