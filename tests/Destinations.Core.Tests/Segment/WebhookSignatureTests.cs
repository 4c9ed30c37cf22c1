using System.Text;
using Destinations.Core.Segment;

namespace Destinations.Core.Tests.Segment;

/// <summary>docs/ingress.md "Webhook signature", with the fixtures signed by Segment's rules for the secret <c>test-shared-secret</c>.</summary>
public class WebhookSignatureTests
{
    const string Secret = "test-shared-secret";

    [Fact]
    public void Classic_webhook_signature_is_over_the_whole_body()
    {
        var body = Fixtures.Bytes("webhook-classic.body.json");
        Assert.True(WebhookSignature.IsValid(body, Secret, Fixtures.Text("webhook-classic.signature.txt")));
        Assert.Equal(Fixtures.Text("webhook-classic.signature.txt"), WebhookSignature.Sign(body, Secret));
    }

    [Fact]
    public void Actions_batch_signature_is_over_the_first_element_as_sent()
    {
        var body = Fixtures.Bytes("webhook-actions-batch.body.json");
        var signature = Fixtures.Text("webhook-actions-batch.signature.txt");
        Assert.NotEqual(signature, WebhookSignature.Sign(body, Secret)); // not the whole body…
        Assert.True(WebhookSignature.IsValid(body, Secret, signature));  // …the first element's raw bytes
    }

    [Fact]
    public void The_first_element_is_found_in_pretty_printed_arrays_too()
    {
        var first = """{ "type" : "track",  "event":"E" }""";
        var body = Encoding.UTF8.GetBytes($"[\n  {first},\n  {{\"type\":\"page\"}}\n]");
        Assert.True(WebhookSignature.IsValid(body, Secret, WebhookSignature.Sign(Encoding.UTF8.GetBytes(first), Secret)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-hex")]
    [InlineData("96e7f83248b991aaf2cb77c5ff06213219659cf")]   // one digit short
    [InlineData("06e7f83248b991aaf2cb77c5ff06213219659cf1")]  // one digit changed
    public void Missing_or_wrong_signatures_fail(string? header) =>
        Assert.False(WebhookSignature.IsValid(Fixtures.Bytes("webhook-classic.body.json"), Secret, header));

    [Fact]
    public void A_different_secret_or_a_changed_body_fails()
    {
        var body = Fixtures.Bytes("webhook-classic.body.json");
        var signature = Fixtures.Text("webhook-classic.signature.txt");
        Assert.False(WebhookSignature.IsValid(body, "another-secret", signature));
        body[^3] = (byte)'3';
        Assert.False(WebhookSignature.IsValid(body, Secret, signature));
    }

    [Fact]
    public void Only_the_first_element_counts_in_an_array()
    {
        var body = Fixtures.Bytes("webhook-actions-batch.body.json");
        var ranges = JsonBody.ElementRanges(body);
        var second = WebhookSignature.Sign(body.AsSpan()[ranges[1]], Secret);
        Assert.False(WebhookSignature.IsValid(body, Secret, second));
    }
}
