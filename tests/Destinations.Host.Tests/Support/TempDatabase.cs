namespace Destinations.Host.Tests.Support;

/// <summary>A fresh SQLite file per test host, under the temp folder (never inside the repository).</summary>
public static class TempDatabase
{
    public static string NewPath() =>
        Path.Combine(Path.GetTempPath(), "destinations-host-tests", Guid.NewGuid().ToString("N"), "destinations.db");
}
