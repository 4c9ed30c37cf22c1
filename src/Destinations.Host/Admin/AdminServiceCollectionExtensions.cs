using Destinations.Host.DryRun;

namespace Destinations.Host.Admin;

public static class AdminServiceCollectionExtensions
{
    /// <summary>The admin key (<c>Admin:ApiKey</c>, D21), its endpoint filter and the event tester.</summary>
    public static IServiceCollection AddAdmin(this IServiceCollection services)
    {
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section)
            .Validate(o => o.ApiKey is null || o.ApiKey.Length == 0 || o.ApiKey.Trim().Length >= 16,
                "Admin:ApiKey: must be at least 16 characters (or empty to switch the admin API off)")
            .ValidateOnStart();
        services.AddSingleton<AdminKeyFilter>();
        services.AddSingleton<DryRunner>();
        return services;
    }
}
