using System.Text.Json.Nodes;
using Destinations.Core.Mapping;

namespace Destinations.Core.Tests.Mapping;

public sealed class FqlTests
{
    static readonly JsonObject Track = JsonNode.Parse("""
        {"type":"track","event":"Signed Up","userId":"u1","anonymousId":"anon-7","groupId":"g-1","name":null,
         "properties":{"plan":"pro","total":129.9,"count":"12","seats":100,"flag":true,"nested":{"a b":"x","c.d":"y"}},
         "traits":{"email":"a@example.com"},"context":{"page":{"url":"https://app.example.com/pricing"}}}
        """)!.AsObject();

    static bool Eval(string trigger) => Fql.Parse(trigger).Matches(Track);

    [Theory]
    [InlineData("type = \"track\"", true)]
    [InlineData("type = \"page\"", false)]
    [InlineData("type != \"page\"", true)]
    [InlineData("event = \"Signed Up\"", true)]
    [InlineData("event = \"signed up\"", false)]
    [InlineData("userId = \"u1\"", true)]
    [InlineData("anonymousId = \"anon-7\"", true)]
    [InlineData("anonymousId = \"anon-8\"", false)]
    [InlineData("groupId = \"g-1\"", true)]
    [InlineData("groupId != \"g-1\"", false)]
    [InlineData("properties.plan = \"pro\"", true)]
    [InlineData("properties.seats = 100", true)]
    [InlineData("properties.seats = \"100\"", true)]   // Segment compares String(actual) === String(expected)
    [InlineData("properties.seats = 100.0", true)]
    [InlineData("properties.count = 12", true)]
    [InlineData("properties.flag = true", true)]
    [InlineData("properties.flag = false", false)]
    [InlineData("traits.email = \"a@example.com\"", true)]
    [InlineData("context.page.url = \"https://app.example.com/pricing\"", true)]
    [InlineData("properties.missing != \"x\"", true)]
    [InlineData("properties.missing = \"x\"", false)]
    public void Equality(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Theory]
    [InlineData("properties.total > 100", true)]
    [InlineData("properties.total < 100", false)]
    [InlineData("properties.total >= 129.9", true)]
    [InlineData("properties.total <= 129.8", false)]
    [InlineData("properties.count > 11", true)]        // a numeric string counts as a number
    [InlineData("properties.plan > 1", false)]          // not a number: every ordering comparison is false
    [InlineData("properties.plan < 1", false)]
    [InlineData("properties.missing < 1", false)]
    [InlineData("properties.seats > -5", true)]
    public void Ordering_compares_numbers(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Theory]
    [InlineData("properties.missing = null", true)]
    [InlineData("name = null", true)]                   // present but null
    [InlineData("properties.plan = null", false)]
    [InlineData("properties.plan != null", true)]
    [InlineData("name != null", false)]
    [InlineData("userId != null", true)]
    public void Nulls(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Theory]
    [InlineData("contains(event, \"Sign\")", true)]
    [InlineData("contains(event, \"sign\")", false)]
    [InlineData("contains(properties.seats, \"10\")", false)] // not a string
    [InlineData("match(event, \"Signed*\")", true)]
    [InlineData("match(event, \"*Up\")", true)]
    [InlineData("match(event, \"Sign?d Up\")", true)]
    [InlineData("match(event, \"Signed\")", false)]     // the whole string must match
    [InlineData("match(event, \"S*d U?\")", true)]
    [InlineData("match(event, \"*.*\")", false)]        // '.' is literal, not a regex
    [InlineData("match(context.page.url, \"https://*/pricing\")", true)]
    public void Functions_and_globs(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Theory]
    [InlineData("type = \"track\" or type = \"page\"", true)]
    [InlineData("type = \"page\" or type = \"track\" and event = \"Nope\"", false)]  // and binds tighter than or
    [InlineData("type = \"track\" or type = \"page\" and event = \"Nope\"", true)]
    [InlineData("(type = \"track\" or type = \"page\") and event = \"Nope\"", false)]
    [InlineData("!contains(event, \"Sign\")", false)]
    [InlineData("not contains(event, \"Sign\")", false)]
    [InlineData("not type = \"page\" and event = \"Signed Up\"", true)]             // not binds tighter than and
    [InlineData("!(type = \"track\" and event = \"Signed Up\")", false)]
    [InlineData("not not type = \"track\"", true)]
    [InlineData("type = \"identify\" or type = \"group\" or (type = \"track\" and properties.plan = \"pro\")", true)]
    public void Precedence_and_negation(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Fact]
    public void Escaped_keys_address_spaces_and_dots()
    {
        Assert.True(Eval("properties.nested.a\\ b = \"x\""));
        Assert.True(Eval("properties.nested.c\\.d = \"y\""));
    }

    [Theory]
    [InlineData("type = \"track\")", "unexpected token ')' at 15")]
    [InlineData("type =", "expected a value (string, number, true, false or null), found end of trigger at 7")]
    [InlineData("type \"track\"", "expected an operator (=, !=, <, >, <=, >=) after 'type', found string \"track\" at 6")]
    [InlineData("(type = \"track\"", "unexpected end of trigger at 16")]
    [InlineData("type = \"track", "unterminated string at 8")]
    [InlineData("foo = \"x\"", "unknown field 'foo' (use type, event, name, userId, anonymousId, groupId, properties.*, traits.* or context.*) at 1")]
    [InlineData("event.x = \"x\"", "unknown field 'event.x' (use type, event, name, userId, anonymousId, groupId, properties.*, traits.* or context.*) at 1")]
    [InlineData("type = \"a\" and", "unexpected end of trigger at 15")]
    [InlineData("type = \"a\" # x", "unexpected character '#' at 12")]
    [InlineData("contains(event, 5)", "contains() needs a string as its second argument, found '5' at 17")]
    [InlineData("properties.x > null", "null can only be compared with = or != at 14")]
    [InlineData("", "unexpected end of trigger at 1")]
    public void Syntax_errors_name_the_position(string trigger, string message)
    {
        var ex = Assert.Throws<FqlSyntaxException>(() => Fql.Parse(trigger));
        Assert.Equal(message, ex.Message);
    }
}
