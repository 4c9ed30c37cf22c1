using System.Text;

namespace Destinations.Profiling;

/// <summary>The benchmark's track event (bench/common.lua): unique messageId and userId per body.</summary>
static class TrackEvent
{
    public const string WriteKey = "profile-write-key";
    public static readonly string BasicAuthorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":"));

    const string Template = "{\"type\":\"track\",\"channel\":\"browser\",\"context\":{\"ip\":\"198.51.100.23\"," +
        "\"userAgent\":\"Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36\",\"locale\":\"en-US\"," +
        "\"library\":{\"name\":\"analytics.js\",\"version\":\"next-1.70.0\"},\"page\":{\"path\":\"/pricing\",\"referrer\":\"https://www.example.org/\"," +
        "\"search\":\"?plan=pro\",\"title\":\"Pricing\",\"url\":\"https://app.example.com/pricing?plan=pro\"},\"timezone\":\"Europe/Amsterdam\"}," +
        "\"integrations\":{},\"originalTimestamp\":\"2026-11-20T10:15:30.120Z\",\"sentAt\":\"2026-11-20T10:15:30.500Z\"," +
        "\"timestamp\":\"2026-11-20T10:15:30.622Z\",\"messageId\":\"bench-{0}\",\"anonymousId\":\"5a6c2e74-0b8e-4f4a-9d2c-7b1c1f0e9a11\"," +
        "\"userId\":\"user-{0}\",\"event\":\"Order Completed\",\"properties\":{\"order_id\":\"ord_1009\",\"total\":129.9,\"revenue\":119.9," +
        "\"currency\":\"EUR\",\"products\":[{\"product_id\":\"sku_1\",\"name\":\"Seat\",\"price\":59.95,\"quantity\":2}]}}";

    /// <summary>A ring of distinct bodies (made before timing starts, so making them is not measured).</summary>
    public static byte[][] Bodies(int count) => Enumerable.Range(0, count).Select(i => Body($"p-{i}")).ToArray();

    /// <summary>One body with its own ids (a store that dedupes must see each messageId once).</summary>
    public static byte[] Body(string id) => Encoding.UTF8.GetBytes(Template.Replace("{0}", id));
}
