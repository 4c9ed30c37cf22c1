namespace Destinations.Host.Tests.Support;

/// <summary>Environment-variable configurations for the service run as a child process (<see cref="Destinations.Testing.ServiceProcess"/>).</summary>
public static class HostEnvironments
{
    /// <summary>A minimal working configuration: one source with a write key, Salesmachine at an address nothing answers.</summary>
    public static Dictionary<string, string> Minimal() => new()
    {
        ["Sources__0__Id"] = "web",
        ["Sources__0__WriteKey"] = IngressApp.WebWriteKey,
        ["Destinations__0__Id"] = "sm",
        ["Destinations__0__Type"] = "Salesmachine",
        ["Destinations__0__Settings__ApiToken"] = OperatorApp.ApiToken,
        ["Destinations__0__Settings__ApiSecret"] = OperatorApp.ApiSecret,
        ["Destinations__0__Settings__BaseUrl"] = $"http://127.0.0.1:{Destinations.Testing.ServiceProcess.FreeLoopbackPort()}",
        ["Logging__Json"] = "true",
    };
}
