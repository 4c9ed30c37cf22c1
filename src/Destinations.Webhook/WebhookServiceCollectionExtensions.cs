using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Destinations.Webhook;

public static class WebhookServiceCollectionExtensions
{
    public const string PipelineName = "webhook";

    /// <summary>
    /// Registers the Webhook factory, its typed client with the D14 pipeline, and <see cref="WebhookClientOptions"/>. The client's
    /// handler follows no redirect, uses no proxy (a proxy would connect in our place and skip the address check) and checks each
    /// connection's address (<see cref="NetworkGuard"/>). HttpClient's own request logging is off for it: it would write URLs,
    /// and a URL may carry a secret (D29).
    /// </summary>
    public static IServiceCollection AddWebhook(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookClientOptions>()
            .Bind(configuration.GetSection(WebhookClientOptions.SectionName))
            .ValidatePartnerClient("Webhook")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDestinationFactory, WebhookDestinationFactory>());

        services.AddPartnerHttpClient<WebhookClient, WebhookClientOptions>(PipelineName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                ConnectCallback = NetworkGuard.ConnectAsync,
            })
            .RemoveAllLoggers();
        return services;
    }
}
