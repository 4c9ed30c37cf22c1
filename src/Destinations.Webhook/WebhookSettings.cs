using Destinations.Core.Delivery;

namespace Destinations.Webhook;

/// <summary>One Webhook instance's <c>Settings</c> (docs/partners/webhook.md "Settings", docs/configuration.md). Immutable (D8).</summary>
public sealed class WebhookSettings
{
    /// <summary>Signs each request's <c>data</c> in <c>X-Signature</c> as Segment does; null = no signature. Secret (D22).</summary>
    public string? SharedSecret { get; init; }

    /// <summary>Where this instance's mappings may send (required).</summary>
    public required AllowedHosts AllowedHosts { get; init; }

    /// <summary>Allow hosts that resolve to loopback, private or link-local addresses (off by default; tests turn it on).</summary>
    public bool AllowPrivateNetworks { get; init; }

    /// <summary>Allow plain http:// URLs (off by default).</summary>
    public bool AllowHttp { get; init; }

    /// <summary>Values for <c>{{secrets.NAME}}</c> in a mapping's url and headers (D29). Secret: never shown.</summary>
    public IReadOnlyDictionary<string, string> Secrets { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The optional credential check: a request whose 2xx answer means the partner accepts us; null = none.</summary>
    public WebhookTestConnection? TestConnection { get; init; }

    /// <summary>Every secret value this instance knows, for scrubbing partner answers before they are kept or shown.</summary>
    public IEnumerable<string> SecretValues =>
        Secrets.Values.Concat(SharedSecret is null ? [] : [SharedSecret]).Where(s => s.Length > 0);

    public override string ToString() =>
        $"WebhookSettings {{ SharedSecret = {SecretMasker.Mask(SharedSecret)}, AllowedHosts = [{string.Join(", ", AllowedHosts.Entries)}], " +
        $"AllowPrivateNetworks = {AllowPrivateNetworks}, AllowHttp = {AllowHttp}, Secrets = [{string.Join(", ", Secrets.Keys)}] }}";
}

/// <summary><c>Settings.TestConnection</c>: method and URL (which may use <c>{{secrets.NAME}}</c>); a 2xx answer passes.</summary>
public sealed record WebhookTestConnection(string Method, string Url);
