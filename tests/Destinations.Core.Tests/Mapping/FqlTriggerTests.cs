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
    [InlineData("!contains(properties.missing, \"x\")", false)] // !contains needs a string
    [InlineData("not contains(properties.missing, \"x\")", true)] // our negation of a whole condition (D20)
    public void Functions(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Theory]
    [InlineData("type = \"identify\" and type = \"track\" or userId = \"u1\"", true)]  // last conjunction: all joined by or
    [InlineData("userId = \"u1\" or type = \"track\" and type = \"identify\"", false)] // all joined by and
    [InlineData("(type = \"identify\" and type = \"track\") or userId = \"u1\"", true)]
    public void A_group_is_joined_by_its_last_conjunction(string trigger, bool expected) => Assert.Equal(expected, Eval(trigger));

    [Fact]
    public void Contains_or_match_on_type_is_refused_as_Segment_cannot_evaluate_it() =>
        Assert.Contains("does not apply to type", Assert.Throws<FqlSyntaxException>(() => Fql.ParseTrigger("contains(type, \"tr\")")).Message);
}
