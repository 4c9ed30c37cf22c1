using System.Text;
using Destinations.Core.Segment;

namespace Destinations.Core.Tests.Segment;

public class JsonBodyTests
{
    static FieldError Fails(byte[] body)
    {
        Assert.False(JsonBody.TryParse(body, out var root, out var error));
        Assert.Null(root);
        Assert.Equal(FieldError.Body, error!.Field);
        return error;
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \r\n")]
    public void Empty_body(string body) =>
        Assert.Equal("the body is empty; send a JSON event", Fails(Encoding.UTF8.GetBytes(body)).Message);

    [Fact]
    public void Malformed_json_names_the_position_not_the_bytes() =>
        Assert.Equal("the body is not valid JSON (line 1, byte 13)", Fails("""{"type":"tr}"""u8.ToArray()).Message);

    [Fact]
    public void Invalid_utf8() =>
        Assert.Equal("the body is not valid UTF-8", Fails([(byte)'"', 0xC3, 0x28, (byte)'"']).Message);

    [Fact]
    public void Nesting_deeper_than_64_levels()
    {
        var deep = new string('[', 65) + new string(']', 65);
        Assert.Equal("the body is nested deeper than 64 levels", Fails(Encoding.UTF8.GetBytes(deep)).Message);
        Assert.True(JsonBody.TryParse(Encoding.UTF8.GetBytes(new string('[', 64) + new string(']', 64)), out _, out _));
    }

    [Fact]
    public void Duplicate_keys_are_a_body_error_not_an_exception()
    {
        var error = Fails("""{"type":"track","context":{"ip":"1","ip":"2"}}"""u8.ToArray());
        Assert.Equal("the body is not valid JSON: an object has the same key twice", error.Message);
    }

    [Fact]
    public void A_utf8_bom_is_tolerated_and_ranges_still_point_into_the_body()
    {
        byte[] body = [0xEF, 0xBB, 0xBF, .. """[{"a":1}, {"b":[2]}]"""u8.ToArray()];
        Assert.True(JsonBody.TryParse(body, out _, out _));
        var ranges = JsonBody.ElementRanges(body);
        Assert.Equal(["""{"a":1}""", """{"b":[2]}"""], ranges.Select(r => Encoding.UTF8.GetString(body[r])));
    }

    [Fact]
    public void Element_ranges_of_a_named_property_array_are_the_raw_bytes()
    {
        var body = """{"context":{"batch":[9]},"batch" : [ {"x":"y"} ,"s", 12 ],"sentAt":"t"}"""u8.ToArray();
        var ranges = JsonBody.ElementRanges(body, "batch");
        Assert.Equal(["""{"x":"y"}""", "\"s\"", "12"], ranges.Select(r => Encoding.UTF8.GetString(body[r])));
        Assert.Empty(JsonBody.ElementRanges(body, "missing"));
    }
}
