using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Microsoft.Extensions.Options;

namespace Destinations.Host.Ingress;

/// <summary>What the ingress handlers need, in one injectable piece (keeps the static handlers' signatures short).</summary>
public sealed class IngressServices(
    DestinationRegistry registry, SourceAuthenticator authenticator, SegmentPayloadReader reader, IngressFlow flow,
    IOptions<IngressOptions> options)
{
    public DestinationRegistry Registry => registry;
    public SourceAuthenticator Authenticator => authenticator;
    public SegmentPayloadReader Reader => reader;
    public IngressFlow Flow => flow;
    public long MaxBodyBytes => options.Value.MaxBodyBytes;
}
