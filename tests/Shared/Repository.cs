namespace Destinations.Testing;

/// <summary>The repository checkout the tests and the benchmark harness run from (linked file): files they read or build
/// beside the build output.</summary>
public static class Repository
{
    /// <summary>The directory holding Destinations.sln, found upwards from the build output.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Destinations.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Destinations.sln not found above " + AppContext.BaseDirectory);
    }
}
