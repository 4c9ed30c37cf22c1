namespace Destinations.Host.Tests.Support;

/// <summary>A fresh SQLite file per test host, under the temp folder (never inside the repository), in a folder of its own
/// that belongs to whoever runs the tests (a shared parent folder left by another user would refuse the next one).</summary>
public static class TempDatabase
{
    public static string NewPath() =>
        Path.Combine(Directory.CreateTempSubdirectory("destinations-host-").FullName, "destinations.db");
}
