using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Delivery;

namespace Destinations.Delivery.Tests;

/// <summary>The stored plan (D11) keeps every step as it was planned: mapped headers included, in order, placeholders as text.</summary>
public sealed class PlanSerializerTests
{
    [Fact]
    public void A_plan_round_trips_with_and_without_headers()
    {
        PartnerRequest[] plan =
        [
            PartnerRequest.Post("contact", "/v1/contact", JsonNode.Parse("""{"id":"u1","n":12345678901234567890,"t":"Zoë"}""")!),
            new("send", "PUT", "https://api.example.com/c/u1?k={{secrets.Key}}", null)
            {
                Headers = [new("Authorization", "Bearer {{secrets.Key}}"), new("X-A", "1"), new("x-a", "2")],
            },
        ];
        var text = PlanSerializer.Serialize(plan);
        var back = PlanSerializer.Deserialize(text);

        Assert.Equal(2, back.Count);
        Assert.Null(back[0].Headers);
        Assert.DoesNotContain("\"headers\"", text[..text.IndexOf("\"send\"", StringComparison.Ordinal)]);
        Assert.Equal(plan[0].Body!.ToJsonString(), back[0].Body!.ToJsonString());
        Assert.Contains("12345678901234567890", text);
        Assert.Equal(("send", "PUT", "https://api.example.com/c/u1?k={{secrets.Key}}"), (back[1].Step, back[1].Method, back[1].Path));
        Assert.Null(back[1].Body);
        Assert.Equal(plan[1].Headers, back[1].Headers);
    }
}
