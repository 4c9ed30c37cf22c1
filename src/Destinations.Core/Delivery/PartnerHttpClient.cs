using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Destinations.Core.Delivery;

/// <summary>The in-process resilience settings every partner client has (its own configuration section, D13, D14).</summary>
public interface IPartnerClientOptions
{
    /// <summary>Per-attempt timeout (D13 default 10 s). A timed-out attempt is classified Retry; the queue retries it.</summary>
    TimeSpan AttemptTimeout { get; }

    /// <summary>Retries of a request that never left (connect refused, DNS, TLS) — safe because nothing was sent (D14).</summary>
    int ConnectRetries { get; }

    /// <summary>First delay between those retries; doubles each time.</summary>
    TimeSpan ConnectRetryDelay { get; }
}

/// <summary>
/// The one typed-HttpClient set-up all partners share: Polly 8 through Microsoft.Extensions.Http.Resilience with exactly what
/// D14 allows in process — deliberately not AddStandardResilienceHandler, whose retries of 5xx/429 belong to the durable queue.
/// </summary>
public static class PartnerHttpClient
{
    /// <summary>Start-up validation of the shared settings; messages name the key (<c>{section}:AttemptTimeout</c>).</summary>
    public static OptionsBuilder<TOptions> ValidatePartnerClient<TOptions>(this OptionsBuilder<TOptions> options, string section)
        where TOptions : class, IPartnerClientOptions =>
        options
            .Validate(o => o.AttemptTimeout > TimeSpan.Zero, $"{section}:AttemptTimeout: must be positive")
            .Validate(o => o.ConnectRetries >= 0, $"{section}:ConnectRetries: must be 0 or more")
            .Validate(o => o.ConnectRetryDelay >= TimeSpan.Zero, $"{section}:ConnectRetryDelay: must be 0 or more");

    /// <summary>
    /// Registers <typeparamref name="TClient"/> as a typed client whose pipeline is: outer, a retry only of requests that never
    /// reached the partner (so none can be applied twice); inner, a timeout per attempt (D13). HttpClient's own 100 s timeout is
    /// switched off so the pipeline's is the one that fires.
    /// </summary>
    public static IHttpClientBuilder AddPartnerHttpClient<TClient, TOptions>(this IServiceCollection services, string pipelineName)
        where TClient : class
        where TOptions : class, IPartnerClientOptions
    {
        var client = services.AddHttpClient<TClient>().ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan);
        client.AddResilienceHandler(pipelineName, (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<TOptions>>().Value;
                if (options.ConnectRetries > 0)
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        ShouldHandle = args => ValueTask.FromResult(NotSent(args.Outcome.Exception)),
                        MaxRetryAttempts = options.ConnectRetries,
                        Delay = options.ConnectRetryDelay,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = false,
                    });
                pipeline.AddTimeout(options.AttemptTimeout);
            });
        return client;
    }

    /// <summary>Connect refused, DNS and TLS failures happen before a byte of the request is sent (D14).</summary>
    public static bool NotSent(Exception? ex) => ex is HttpRequestException
    {
        HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError,
    };
}
