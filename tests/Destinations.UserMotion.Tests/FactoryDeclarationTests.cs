using Destinations.Core.Delivery;

namespace Destinations.UserMotion.Tests;

/// <summary>The partner declares itself through its factory: type, Integrations name, default rate limit (D25).</summary>
public sealed class FactoryDeclarationTests
{
    [Fact]
    public void The_factory_declares_the_type_the_integrations_name_and_the_default_rate_limit()
    {
        using var host = new TestHost(new Dictionary<string, string?>());

        Assert.Equal(("UserMotion", "UserMotion (Actions)"), (host.Factory.Type, host.Factory.IntegrationName));
        Assert.Null(host.Factory.DefaultRateLimit);
    }
}
