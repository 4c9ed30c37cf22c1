using Destinations.Core.Segment;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Destinations.Host.Ingress;

public static class IngressServiceCollectionExtensions
{
    /// <summary>Reading, validation, authentication and the accept flow of the Segment ingress.</summary>
    public static IServiceCollection AddIngress(this IServiceCollection services)
    {
        services.AddOptions<IngressOptions>().BindConfiguration(IngressOptions.Section)
            .Validate(o => o.MaxBodyBytes is > 0 and <= int.MaxValue, "Ingress:MaxBodyBytes must be between 1 and 2147483647")
            .ValidateOnStart();
        // Kestrel's own cap matches ours, so an oversized plain body is refused while it streams (413).
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>()
            .Configure<IOptions<IngressOptions>>((kestrel, ingress) => kestrel.Limits.MaxRequestBodySize = ingress.Value.MaxBodyBytes);

        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, IngressJsonContext.Default));
        services.TryAddSingleton(TimeProvider.System);
        services.AddValidatorsFromAssemblyContaining<SegmentEventValidator>(ServiceLifetime.Singleton);
        services.AddSingleton<SegmentEventReader>();
        services.AddSingleton<SegmentPayloadReader>();
        services.AddSingleton<SourceAuthenticator>();
        services.AddSingleton<IngressFlow>();
        services.AddSingleton<IngressServices>();
        return services;
    }
}
