using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Selligent;
using Destinations.UserMotion;
using Destinations.Webhook;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Destinations.Benchmarks;

/// <summary>
/// The same measurement for Selligent, UserMotion and Webhook instances as configured by default: SMC with the fixtures' track
/// allowed and page events on, each chunk's event rows written as one <c>data/load</c> body; UserMotion with its presets,
/// each body written as its client writes it; Webhook with a mapping that sends the whole event (the default <c>data</c>),
/// each request built as it goes on the wire (<see cref="WebhookClient.Build"/>: body bytes and signature).
/// </summary>
public static partial class MapCost
{
    sealed record Partner(string Label, DestinationRegistry Registry, Func<string, string> SubscriptionOf,
        Func<List<PartnerRequest>, ArrayBufferWriter<byte>, long> Write);

    /// <param name="only">smc, um, wh, or all.</param>
    static int RunPartners(string only, int events, int warm, string root)
    {
        var mappings = Path.Combine(Path.GetTempPath(), $"mapcost-webhook-{Environment.ProcessId}.json");
        File.WriteAllText(mappings, """
            [{"name": "m", "trigger": "type = \"track\" or type = \"identify\" or type = \"page\"", "action": "send",
              "fields": {"url": "https://api.example.com/events"}}]
            """);
        try
        {
            var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Sources:0:Id"] = "web",
                ["Sources:0:AllowUnsigned"] = "true",
                ["Destinations:0:Id"] = "smc",
                ["Destinations:0:Type"] = SelligentApi.Type,
                ["Destinations:0:Settings:ApiKey"] = "bench-key",
                ["Destinations:0:Settings:ApiSecret"] = "bench-secret",
                ["Destinations:0:Settings:SmcAdminUrl"] = "https://acme.slgnt.us",
                ["Destinations:0:Settings:Organization"] = "ACME",
                ["Destinations:0:Settings:AllowedEvents:0"] = "Order Completed",
                ["Destinations:0:Settings:SendPageEvents"] = "true",
                ["Destinations:1:Id"] = "um",
                ["Destinations:1:Type"] = UserMotionApi.Type,
                ["Destinations:1:Settings:ApiKey"] = "bench-key",
                ["Destinations:2:Id"] = "wh",
                ["Destinations:2:Type"] = WebhookApi.Type,
                ["Destinations:2:MappingsFile"] = mappings,
                ["Destinations:2:Settings:SharedSecret"] = "bench-secret",
                ["Destinations:2:Settings:AllowedHosts:0"] = "api.example.com",
            }).Build();
            var services = new ServiceCollection();
            services.AddSelligent(config);
            services.AddUserMotion(config);
            services.AddWebhook(config);
            using var provider = services.BuildServiceProvider();
            var registry = DestinationRegistry.Build(config, provider.GetServices<IDestinationFactory>());
            var webhook = (WebhookDestination)registry.Find("wh")!;

            var partners = new[]
            {
                new Partner("smc", registry, type => type, SelligentLoad),
                new Partner("um", registry, type => type switch
                {
                    "identify" => "Identify User",
                    "group" => "Identify Group",
                    _ => "Track Analytics Event",
                }, UserMotionBodies),
                new Partner("wh", registry, _ => "m", (requests, _) => requests.Sum(r =>
                    (long)(WebhookClient.Build([r], WebhookRequests.IsBatched(r), webhook.Settings, webhook.SecretUse).Body?.Length ?? 0))),
            };
            var stored = Fixtures.Select(f => Stored(Path.Combine(root, "tests", "Destinations.Core.Tests", "Fixtures", "segment", f.File), f.PathType)).ToList();
            foreach (var p in partners.Where(p => only == "all" || p.Label == only))
            {
                var destination = p.Registry.Find(p.Label)!;
                Console.WriteLine($"{destination}: body B/event is what its client writes");
                Console.WriteLine($"{"event",-10} {"body B",7} {"CPU µs/event",13} {"wall µs/event",14} {"alloc B/event",14} {"body B/event",14} {"+map µs",8}");
                for (var i = 0; i < Fixtures.Length; i++) Row(p, destination, Fixtures[i].Label, [stored[i]]);
                Row(p, destination, "mixed", stored);
            }
            return 0;
        }
        finally
        {
            File.Delete(mappings);
        }

        void Row(Partner p, IDestination destination, string label, IReadOnlyList<string> bodies)
        {
            var f = Measure(p.Registry, destination, bodies, events, warm, Stage.All, subscriptionOf: p.SubscriptionOf, write: p.Write);
            var map = Measure(p.Registry, destination, bodies, events, warm, Stage.Map, subscriptionOf: p.SubscriptionOf, write: p.Write);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label,-10} {(int)bodies.Average(b => b.Length),7} {f.CpuUs,13:F2} {f.WallUs,14:F2} {f.AllocBytes,14:F0} {f.BatchBytes,14:F0} {map.CpuUs,8:F2}"));
        }
    }

    /// <summary>The chunk's event rows as one <c>data/load</c> body, as the SMC client sends it (a segment call alone).</summary>
    static long SelligentLoad(List<PartnerRequest> requests, ArrayBufferWriter<byte> buffer)
    {
        var rows = requests.Select(r => r.Body).OfType<JsonObject>().ToList();
        long written = rows.Count > 0 ? Encoding.UTF8.GetByteCount(SelligentLoadBody.Build(rows).ToJsonString()) : 0;
        foreach (var r in requests.Where(r => r.Body is not JsonObject)) written += Encoding.UTF8.GetByteCount(r.Body?.ToJsonString() ?? "");
        return written;
    }

    /// <summary>Each body as the UserMotion client sends it: <c>ToJsonString()</c>, then UTF-8.</summary>
    static long UserMotionBodies(List<PartnerRequest> requests, ArrayBufferWriter<byte> buffer) =>
        requests.Sum(r => (long)Encoding.UTF8.GetBytes(r.Body?.ToJsonString() ?? "").Length);
}
