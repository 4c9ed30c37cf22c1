using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Destinations.Selligent;

public static class SelligentServiceCollectionExtensions
{
    public const string PipelineName = "selligent";

    /// <summary>
    /// Registers the SMC factory, <see cref="SelligentOptions"/> (section <c>Selligent</c>), the per-list load locks and the
    /// typed client with the same D14 pipeline as Salesmachine.
    /// </summary>
    public static IServiceCollection AddSelligent(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SelligentOptions>()
            .Bind(configuration.GetSection(SelligentOptions.SectionName))
            .Validate(o => o.AttemptTimeout > TimeSpan.Zero, "Selligent:AttemptTimeout: must be positive")
            .Validate(o => o.ConnectRetries >= 0, "Selligent:ConnectRetries: must be 0 or more")
            .Validate(o => o.ConnectRetryDelay >= TimeSpan.Zero, "Selligent:ConnectRetryDelay: must be 0 or more")
            .Validate(o => o.MaxRowsPerLoad >= 1, "Selligent:MaxRowsPerLoad: must be 1 or more")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        // One lock table per process: loads to one list are serialised across every worker and instance.
        services.TryAddSingleton<SelligentListLocks>();
        // TryAddEnumerable: calling AddSelligent twice must not register the type twice (the registry keys factories by Type).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDestinationFactory, SelligentDestinationFactory>());

        services.AddHttpClient<SelligentClient>()
            // The pipeline's per-attempt timeout must be the one that fires (D13), not HttpClient's 100 s default.
            .ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler(PipelineName, (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<SelligentOptions>>().Value;
                // D14: deliberately not AddStandardResilienceHandler — 5xx/429 are retried by the durable queue, not here.
                // Outer: retry only what never reached SMC, so no request can be applied twice.
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
