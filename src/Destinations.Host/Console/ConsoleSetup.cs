using System.Threading.RateLimiting;
using Destinations.Core.Storage;
using Destinations.Host.Admin;
using Destinations.Host.Endpoints;
using Destinations.Storage;
using Destinations.Storage.Operator;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace Destinations.Host.OperatorConsole;

/// <summary>
/// The operator console at <c>/console</c>: Razor Pages behind a sign-in with the admin key (a cookie session), its two
/// static files, the live tail. Off (404) without <c>Admin:ApiKey</c>, like the admin API. <c>/admin/*</c> and
/// <c>/v1/dry-run</c> stay bearer-only: the console's authentication runs only on console paths.
/// </summary>
public static class ConsoleSetup
{
    public const string SignInRateLimit = "console-sign-in";

    /// <summary>After the store and delivery are registered: the live tail wraps the store's delivery queue.</summary>
    public static IServiceCollection AddConsole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.Section)
            .Validate(o => o.SignInAttemptsPerMinute >= 1, "Console:SignInAttemptsPerMinute: must be at least 1")
            .Validate(o => o.IdleTimeout > TimeSpan.Zero && o.AbsoluteTimeout >= o.IdleTimeout,
                "Console:IdleTimeout must be positive and Console:AbsoluteTimeout at least as long")
            .Validate(o => o.LiveBufferLines is >= 1 and <= 100_000, "Console:LiveBufferLines: must be between 1 and 100000")
            // Retention deletes a Data Protection key that long after it expired; a session still alive then would be refused.
            .Validate<IOptions<RetentionOptions>>((o, retention) => o.AbsoluteTimeout < retention.Value.ExpiredKeys,
                "Console:AbsoluteTimeout must be shorter than Storage:Retention:ExpiredKeys")
            .ValidateOnStart();
        services.AddOperatorStore(configuration);
        services.AddSingleton<LiveFeed>();
        services.AddSingleton<ConsoleAudit>();
        DecorateDeliveryQueue(services);

        // Data Protection (cookies, antiforgery tokens) keeps its keys in the store: a restart or another replica reads the
        // cookies issued before.
        services.AddDataProtection().SetApplicationName("Destinations");
        services.AddOptions<KeyManagementOptions>().Configure<IXmlRepository>((o, keys) => o.XmlRepository = keys);

        // No default scheme: only the console's policy names this one, so no other request (each ingested event) runs the
        // cookie handler. ASP.NET Core makes a lone scheme the default unless told not to.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        services.AddAuthentication().AddCookie(ConsoleSession.Scheme, _ => { });
        services.AddOptions<CookieAuthenticationOptions>(ConsoleSession.Scheme)
            .Configure<IOptions<ConsoleOptions>>((o, console) => ConsoleSession.Configure(o, console.Value));
        services.AddAuthorizationBuilder().AddPolicy(ConsoleSession.Policy, p => p
            .AddAuthenticationSchemes(ConsoleSession.Scheme).RequireAuthenticatedUser());
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "destinations-console-af";
            o.Cookie.Path = "/console";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.FormFieldName = "__af";
        });
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(SignInRateLimit, http =>
            {
                // Only sign-in attempts count: showing the form is free.
                if (!HttpMethods.IsPost(http.Request.Method)) return RateLimitPartition.GetNoLimiter("show");
                var perMinute = http.RequestServices.GetRequiredService<IOptions<ConsoleOptions>>().Value.SignInAttemptsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
        });
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Console/Pages";
            o.Conventions.AuthorizeFolder("/", ConsoleSession.Policy);
            o.Conventions.AllowAnonymousToPage("/SignIn");
        });
        return services;
    }

    static void DecorateDeliveryQueue(IServiceCollection services)
    {
        var index = services.Select((d, i) => (d, i)).LastOrDefault(x => x.d.ServiceType == typeof(IDeliveryQueue));
        if (index.d is null) return;
        var original = index.d;
        services[index.i] = ServiceDescriptor.Singleton<IDeliveryQueue>(sp =>
        {
            var inner = original.ImplementationFactory is { } factory ? (IDeliveryQueue)factory(sp)
                : original.ImplementationInstance as IDeliveryQueue ?? (IDeliveryQueue)ActivatorUtilities.CreateInstance(sp, original.ImplementationType!);
            var feed = sp.GetRequiredService<LiveFeed>();
            var time = sp.GetRequiredService<TimeProvider>();
            return inner is ISharedRateLimits ? new SharedLiveDeliveryQueue(inner, feed, time) : new LiveDeliveryQueue(inner, feed, time);
        });
    }

    /// <summary>
    /// Console paths answer 404 while the admin key is unset; then authentication and authorization (which act only on the
    /// console's endpoints: nothing else names the console's scheme or policy) and the sign-in rate limit.
    /// </summary>
    public static WebApplication UseConsole(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/console"), console => console.Use((http, next) =>
        {
            if (http.RequestServices.GetRequiredService<IOptionsMonitor<AdminOptions>>().CurrentValue.Enabled) return next(http);
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }));
        // Not for the ingress: its requests carry their own credentials (a write key, a signature) and its endpoints name no
        // policy, yet both middlewares cost every ingested request a service scope, a handler provider, an items dictionary
        // and two async state machines.
        app.UseWhen(http => !IngressEndpoints.IsIngressPath(http.Request.Path), branch =>
        {
            branch.UseAuthentication();
            branch.UseAuthorization();
        });
        // The host adds its own authentication and authorization at the very start of the pipeline, for every request, unless
        // the application has called them; it looks for these markers, which a branch's calls above do not set on the app.
        var properties = ((IApplicationBuilder)app).Properties;
        properties["__AuthenticationMiddlewareSet"] = true;
        properties["__AuthorizationMiddlewareSet"] = true;
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/console/sign-in"), signIn => signIn.UseRateLimiter());
        return app;
    }

    public static WebApplication MapConsole(this WebApplication app)
    {
        app.MapRazorPages();
        ConsoleAssets.Map(app);
        LiveEndpoints.Map(app);
        return app;
    }
}
