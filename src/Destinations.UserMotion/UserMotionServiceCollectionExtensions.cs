using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Destinations.UserMotion;

public static class UserMotionServiceCollectionExtensions
{
    public const string PipelineName = "usermotion";

    /// <summary>Registers the UserMotion factory, its typed client with the D14 pipeline, and <see cref="UserMotionClientOptions"/>.</summary>
    public static IServiceCollection AddUserMotion(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<UserMotionClientOptions>()
            .Bind(configuration.GetSection(UserMotionClientOptions.SectionName))
            .Validate(o => o.AttemptTimeout > TimeSpan.Zero, "UserMotion:AttemptTimeout: must be positive")
            .Validate(o => o.ConnectRetries >= 0, "UserMotion:ConnectRetries: must be 0 or more")
            .Validate(o => o.ConnectRetryDelay >= TimeSpan.Zero, "UserMotion:ConnectRetryDelay: must be 0 or more")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDestinationFactory, UserMotionDestinationFactory>());

        services.AddHttpClient<UserMotionClient>()
            // The pipeline's per-attempt timeout must be the one that fires (D13), not HttpClient's 100 s default.
            .ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler(PipelineName, (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<UserMotionClientOptions>>().Value;
                // D14: not the standard handler — 5xx/429 are retried by the durable queue. Outer: only what never left.
                if (options.ConnectRetries > 0)
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        ShouldHandle = args => ValueTask.FromResult(NotSent(args.Outcome.Exception)),
                        MaxRetryAttempts = options.ConnectRetries,
                        Delay = options.ConnectRetryDelay,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = false,
                    });
                pipeline.AddTimeout(options.AttemptTimeout); // inner: per attempt (D13)
            });
        return services;
    }

    /// <summary>Connect refused, DNS and TLS failures happen before a byte of the request is sent (D14).</summary>
    static bool NotSent(Exception? ex) => ex is HttpRequestException
    {
        HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError,
    };
}
