using System.Text.Json.Nodes;
using Destinations.Core.Mapping;

namespace Destinations.Core.Tests.Mapping;

/// <summary>
/// Triggers read as Segment's subscription parser reads them (D31). The same answers are checked against Segment's published
/// parser in tests/Destinations.Webhook.Tests (TriggerEqualityTests); these pin the rules without Node.js.
/// </summary>
public sealed class FqlTriggerTests
{
    static readonly JsonObject Track = JsonNode.Parse("""
        {"type":"track","event":"Order Completed","userId":"u1","anonymousId":"a1",
         "properties":{"total":129.9,"count":"12","seats":100,"flag":true,"plan":"pro","nothing":null}}
        """)!.AsObject();

    static bool Eval(string trigger) => Fql.ParseTrigger(trigger).Matches(Track);

    [Theory]
    [InlineData("properties.seats = 100", true)]
    [InlineData("properties.seats = \"100\"", false)]    // = compares strings exactly: the number is not "100"
    [InlineData("properties.count = 12", false)]         // a number on the right needs a number
    [InlineData("properties.count = \"12\"", true)]
    [InlineData("properties.seats != 100", false)]
    [InlineData("properties.missing != 100", false)]     // number_not_equals: only numbers are compared
    [InlineData("properties.missing != \"x\"", true)]
    [InlineData("properties.flag = true", true)]
    [InlineData("properties.plan = true", false)]        // is_true needs a boolean
    [InlineData("properties.nothing = null", true)]
    [InlineData("properties.plan != null", true)]
    [InlineData("properties.total > \"100\"", true)]
    [InlineData("properties.count > 10", false)]         // < > need a number
    [InlineData("userId != null", true)]
    [InlineData("anonymousId = \"a1\"", true)]
    [InlineData("groupId = null", true)]
    public void Comparisons(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Theory]
    [InlineData("match(event, \"Order*\")", true)]         // prefix
    [InlineData("match(event, \"*Completed\")", true)]     // suffix
    [InlineData("match(event, \"Order Completed\")", true)] // no '*' at the end: a suffix test on "rder Completed"
    [InlineData("match(event, \"XOrder Completed\")", true)]
    [InlineData("match(event, \"O*d\")", false)]            // not a glob: a suffix test on "*d"
    [InlineData("!match(event, \"Order*\")", false)]
    [InlineData("contains(event, Order)", true)]           // a bare name or a number is the text String() gives it
    [InlineData("contains(properties.plan, 1)", false)]
    [InlineData("match(event, xCompleted)", true)]         // not a string: a suffix test on "Completed"
    [InlineData("!contains(properties.missing, \"x\")", false)] // !contains needs a string
    [InlineData("not contains(properties.missing, \"x\")", true)] // our negation of a whole condition (D20)
    public void Functions(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Theory]
    [InlineData("type = \"identify\" and type = \"track\" or userId = \"u1\"", true)]  // last conjunction: all joined by or
    [InlineData("userId = \"u1\" or type = \"track\" and type = \"identify\"", false)] // all joined by and
    [InlineData("(type = \"identify\" and type = \"track\") or userId = \"u1\"", true)]
    public void A_group_is_joined_by_its_last_conjunction(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Theory]
    [InlineData("event = 'Order Completed'", false)]      // a single-quoted string keeps its quotes: the text is 'Order Completed'
    [InlineData("event = \"Order Completed\"", true)]
    [InlineData("event != 'Order Completed'", true)]
    [InlineData("contains(event, 'Order')", false)]
    [InlineData("match(event, 'Order*')", false)]          // only a double-quoted "…*" is a prefix test; this is a suffix test on "Order*'"
    [InlineData("type='track' or userId = \"u1\"", true)]
    [InlineData("event = \"a\\\"", false)]               // no escapes in a string: the text is a\
    public void Strings_as_Segments_lexer_reads_them(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Theory]
    [InlineData("properties.seats = 1e2", false)]          // letters end a number: 1e2 is 1 (and the e2 is skipped)
    [InlineData("properties.seats > 1e2", true)]
    [InlineData("properties.seats = +100", true)]
    [InlineData("properties.seats = 100.0", true)]
    [InlineData("properties.seats != -", true)]            // "-" is NaN, which no number equals
    [InlineData("properties.seats = -", false)]
    [InlineData("properties.seats = 100and type = \"track\"", true)]
    public void Numbers_as_Segments_lexer_reads_them(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Theory]
    [InlineData("properties.total>5")]                     // a name must be followed by a space or one of , ) ( = !
    [InlineData("properties.total >=5")]                   // Segment reads ">=5" as ">" and "="
    [InlineData("properties.total = 5.")]
    [InlineData("properties.total = 1.2.3")]
    [InlineData("properties.total = 1e+3")]
    [InlineData("properties.$x = \"x\"")]
    [InlineData("type = \"track\" && event = \"x\"")]
    [InlineData("event = 'Order")]
    [InlineData("name!=null")]
    [InlineData("type = \"track\" or(event = \"x\")")]
    [InlineData("type = \"track\"\r\n")]
    public void What_Segments_lexer_refuses_is_refused(string trigger) => Assert.Throws<FqlSyntaxException>(() => Fql.ParseTrigger(trigger));

    // event = <number> compares the event name with JavaScript's String(Number(x)).
    [Theory]
    [InlineData("5.0", "5")]
    [InlineData("-0", "0")]
    [InlineData("0.5", "0.5")]
    [InlineData("1000000000000000", "1000000000000000")]
    [InlineData("1000000000000000000000", "1e+21")]
    [InlineData("0.00000015", "1.5e-7")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("-123.456", "-123.456")]
    [InlineData("-", "NaN")]
    public void A_number_compared_with_a_name_is_printed_as_JavaScript_prints_it(string literal, string name)
    {
        var e = new JsonObject { ["type"] = "track", ["event"] = name };
        Assert.True(Fql.ParseTrigger("event = " + literal).Matches(e));
        Assert.False(Fql.ParseTrigger("event = " + literal).Matches(new JsonObject { ["type"] = "track", ["event"] = literal + "x" }));
    }

    [Fact]
    public void Contains_or_match_on_type_is_refused_as_Segment_cannot_evaluate_it() =>
        Assert.Contains("does not apply to type", Assert.Throws<FqlSyntaxException>(() => Fql.ParseTrigger("contains(type, \"tr\")")).Message);
}
