using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Destinations.UserMotion;

/// <summary>
/// Builds UserMotion instances from <c>Destinations</c> entries with <c>Type: UserMotion</c>: <c>Settings</c> plus an optional
/// <c>MappingsFile</c> beside it (docs/partners/usermotion.md "Custom mappings", D20). Without a file the instance runs the three presets.
/// </summary>
public sealed class UserMotionDestinationFactory(IServiceProvider services) : IDestinationFactory
{
    public string Type => UserMotionApi.Type;
    public string IntegrationName => UserMotionApi.IntegrationName;

    /// <summary>UserMotion documents no request limit.</summary>
    public PartnerRateLimit? DefaultRateLimit => null;

    public DestinationBuildResult Create(string id, IConfigurationSection instanceSection, string keyPath)
    {
        var read = UserMotionSettingsReader.Read(instanceSection.GetSection("Settings"), keyPath);
        var errors = new List<string>(read.Errors);

        IReadOnlyList<ActionMapping> mappings = UserMotionActions.Presets();
        var file = instanceSection["MappingsFile"];
        if (string.IsNullOrWhiteSpace(file)) file = null;
        else
        {
            // Relative paths are taken from the content root (the current directory when there is no host).
            var root = services.GetService<IHostEnvironment>()?.ContentRootPath ?? Directory.GetCurrentDirectory();
            var loaded = ActionMappingsFile.Load(file, root, $"{keyPath}.MappingsFile", UserMotionActions.ByKey, UserMotionApi.MaxMappings);
            errors.AddRange(loaded.Errors);
            if (loaded.Mappings is { } m) mappings = m;
        }

        if (errors.Count > 0 || read.Settings is null) return new DestinationBuildResult(null, errors, read.Warnings);
        var warnings = new List<string>(read.Warnings);
        if (file is not null && mappings.Count == 0)
            warnings.Add($"{keyPath}.MappingsFile: holds no mappings: this instance sends nothing");
        // Typed clients are transient: resolve one per send so handler rotation by IHttpClientFactory keeps working.
        var destination = new UserMotionDestination(id, read.Settings, mappings, file, () => services.GetRequiredService<UserMotionClient>());
        return DestinationBuildResult.Ok(destination, [.. warnings]);
    }
}
