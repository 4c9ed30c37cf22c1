using System.Net.Http;
using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Destinations.Salesmachine;

public static class SalesmachineServiceCollectionExtensions
{
    public const string PipelineName = "salesmachine";

    /// <summary>Registers the Salesmachine factory, its typed client with the D14 pipeline, and <see cref="SalesmachineClientOptions"/>.</summary>
    public static IServiceCollection AddSalesmachine(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SalesmachineClientOptions>()
            .Bind(configuration.GetSection(SalesmachineClientOptions.SectionName))
            .Validate(o => o.AttemptTimeout > TimeSpan.Zero, "Salesmachine:AttemptTimeout: must be positive")
            .Validate(o => o.ConnectRetries >= 0, "Salesmachine:ConnectRetries: must be 0 or more")
            .Validate(o => o.ConnectRetryDelay >= TimeSpan.Zero, "Salesmachine:ConnectRetryDelay: must be 0 or more")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        // TryAddEnumerable: calling AddSalesmachine twice must not register the type twice (the registry keys factories by Type).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDestinationFactory, SalesmachineDestinationFactory>());

        services.AddHttpClient<SalesmachineClient>()
            // The pipeline's per-attempt timeout must be the one that fires (D13), not HttpClient's 100 s default.
            .ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler(PipelineName, (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<SalesmachineClientOptions>>().Value;
                // D14: deliberately not AddStandardResilienceHandler — 5xx/429 are retried by the durable queue, not here.
                // Outer: retry only what never reached Salesmachine, so no request can be applied twice.
                if (options.ConnectRetries > 0)
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        ShouldHandle = args => ValueTask.FromResult(NotSent(args.Outcome.Exception)),
                        MaxRetryAttempts = options.ConnectRetries,
                        Delay = options.ConnectRetryDelay,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = false,
                    });
                // Inner: each attempt gets its own timeout (D13).
                pipeline.AddTimeout(options.AttemptTimeout);
            });
        return services;
    }

    /// <summary>Connect refused, DNS and TLS failures happen before a byte of the request is sent (D14).</summary>
    static bool NotSent(Exception? ex) => ex is HttpRequestException
    {
        HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError,
    };
}
