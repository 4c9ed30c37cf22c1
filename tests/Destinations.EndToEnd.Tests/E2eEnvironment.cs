using System.Text.Json.Nodes;
using WireMock.Logging;
using WireMock.Server;

namespace Destinations.EndToEnd.Tests;

/// <summary>Configuration (as environment variables, the way an operator or compose file sets it) and partner-log helpers.</summary>
static class E2eEnvironment
{
    public const string WriteKey = "e2e-write-key-4f1c";
    public const string ApiToken = "e2e-sm-token-91ab";
    public const string ApiSecret = "e2e-sm-secret-77cd";

    public static Dictionary<string, string> SalesmachineService(string dataDirectory, string partnerUrl) => new()
    {
        ["Storage__ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "destinations.db")}",
        ["Sources__0__Id"] = "web",
        ["Sources__0__WriteKey"] = WriteKey,
        ["Destinations__0__Id"] = "salesmachine-e2e",
        ["Destinations__0__Type"] = "Salesmachine",
        ["Destinations__0__Settings__ApiToken"] = ApiToken,
        ["Destinations__0__Settings__ApiSecret"] = ApiSecret,
        ["Destinations__0__Settings__BaseUrl"] = partnerUrl,
        // Compressed schedule (D13: every delay is configurable so tests compress hours into seconds).
        ["Delivery__BaseDelay"] = "00:00:00.100",
        ["Delivery__MaxDelay"] = "00:00:00.500",
        ["Delivery__Lease"] = "00:00:03",
        ["Delivery__PollInterval"] = "00:00:00.200",
        ["Salesmachine__AttemptTimeout"] = "00:00:02",
    };

    public static string NewDataDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "destinations-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>contact_uid of every POST /v1/contact the fake partner answered with 2xx.</summary>
    public static HashSet<string> DeliveredContacts(WireMockServer partner)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (ILogEntry entry in partner.LogEntries)
        {
            if (entry.RequestMessage.Path != "/v1/contact" || entry.ResponseMessage.StatusCode is not int status || status >= 300) continue;
            if (JsonNode.Parse(entry.RequestMessage.Body ?? "null")?["contact_uid"]?.GetValue<string>() is { } uid) set.Add(uid);
        }
        return set;
    }

    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (condition()) return true;
            await Task.Delay(100);
        }
        return condition();
    }
}
