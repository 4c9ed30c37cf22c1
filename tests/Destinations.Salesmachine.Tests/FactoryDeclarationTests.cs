using Destinations.Core.Delivery;

namespace Destinations.Salesmachine.Tests;

/// <summary>The partner declares itself through its factory: type, Integrations name, default rate limit (D25).</summary>
public sealed class FactoryDeclarationTests
{
    [Fact]
    public void The_factory_declares_the_type_the_integrations_name_and_the_default_rate_limit()
    {
        using var host = new TestHost(new Dictionary<string, string?>());

        Assert.Equal(("Salesmachine", "Salesmachine"), (host.Factory.Type, host.Factory.IntegrationName));
        Assert.Equal(new PartnerRateLimit(900, TimeSpan.FromSeconds(300)), host.Factory.DefaultRateLimit);
    }
}
