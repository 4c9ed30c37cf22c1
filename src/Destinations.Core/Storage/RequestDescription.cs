namespace Destinations.Core.Storage;

/// <summary>The request a failed attempt sent, as kept with the delivery: method, absolute URL (IDestination.Describe) and
/// body. Never headers, so never a credential.</summary>
public sealed record RequestDescription(string Method, string Url, string? Body)
{
    /// <summary>Bodies longer than this are cut (a dead letter is for diagnosis; the event itself is kept whole).</summary>
    public const int MaxBodyLength = 4096;

    public static RequestDescription Of(string method, Uri url, string? body) =>
        new(method, url.ToString(), body is { Length: > MaxBodyLength } ? body[..MaxBodyLength] : body);
}
