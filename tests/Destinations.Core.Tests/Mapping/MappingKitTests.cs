using System.Text.Json.Nodes;
using Destinations.Core.Mapping;

namespace Destinations.Core.Tests.Mapping;

public sealed class MappingKitTests
{
    static readonly JsonObject Event = JsonNode.Parse("""
        {"type":"identify","userId":"u1","email":"top@example.com","nothing":null,"empty":"",
         "traits":{"first":"Grace","last":"Hopper","email":"Grace@Example.com","quote":"O'Brien <b>","age":42,"vip":true,
                   "tags":["a","b"],"address":{"city":"Paris"}},
         "properties":{"products":[{"product_id":"p1","price":10},{"product_id":"p2","price":20}],"json":"{\"a\":1}","bad":"{x"}}
        """)!.AsObject();

    /// <summary>The resolved value as JSON text; "undefined" when the key would be left out.</summary>
    static string Map(string mapping)
    {
        var r = MappingKit.Resolve(JsonNode.Parse(mapping), Event);
        return r.IsDefined ? r.Value?.ToJsonString() ?? "null" : "undefined";
    }

    [Theory]
    [InlineData("""{"@path":"$.userId"}""", "\"u1\"")]
    [InlineData("""{"@path":"$.traits.address.city"}""", "\"Paris\"")]
    [InlineData("""{"@path":"$.traits.tags[1]"}""", "\"b\"")]
    [InlineData("""{"@path":"$.properties.products[0].price"}""", "10")]
    [InlineData("""{"@path":"traits.first"}""", "\"Grace\"")]
    [InlineData("""{"@path":"$.missing"}""", "undefined")]
    [InlineData("""{"@path":"$.traits.first.deeper"}""", "undefined")]     // a string has no keys
    [InlineData("""{"@path":"$.nothing"}""", "null")]                       // present null stays null
    [InlineData("""{"@path":"$.traits.address"}""", """{"city":"Paris"}""")]
    public void Path(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Theory]
    [InlineData("""{"@template":"{{traits.first}} {{traits.last}}"}""", "\"Grace Hopper\"")]
    [InlineData("""{"@template":"pageview"}""", "\"pageview\"")]
    [InlineData("""{"@template":"Hi {{traits.missing}}!"}""", "\"Hi !\"")]
    [InlineData("""{"@template":"{{traits.age}}/{{traits.vip}}/{{traits.tags}}"}""", "\"42/true/a,b\"")]
    [InlineData("""{"@template":"{{traits.address}}"}""", "\"[object Object]\"")]
    // Neither {{ }} nor {{{ }}} escapes HTML: Segment's render stopped escaping (mapping-kit placeholders.ts).
    [InlineData("""{"@template":"{{traits.quote}}"}""", "\"O\\u0027Brien \\u003Cb\\u003E\"")]
    [InlineData("""{"@template":"{{{traits.quote}}}"}""", "\"O\\u0027Brien \\u003Cb\\u003E\"")]
    public void Template(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Theory]
    [InlineData("""{"@literal":"x"}""", "\"x\"")]
    [InlineData("""{"@literal":{"a":[1,null]}}""", """{"a":[1,null]}""")]
    [InlineData("""{"@literal":{"@path":"$.userId"}}""", "\"u1\"")]        // Segment resolves inside @literal too
    [InlineData("\"plain\"", "\"plain\"")]
    [InlineData("12", "12")]
    [InlineData("null", "null")]
    [InlineData("""{"id":{"@path":"$.userId"},"gone":{"@path":"$.missing"},"kept":null}""", """{"id":"u1","kept":null}""")]
    [InlineData("""[{"@path":"$.userId"},{"@path":"$.missing"}]""", """["u1",null]""")]
    public void Literals_objects_and_arrays(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Theory]
    [InlineData("""{"@if":{"exists":{"@path":"$.traits.email"},"then":{"@path":"$.traits.email"},"else":{"@path":"$.email"}}}""", "\"Grace@Example.com\"")]
    [InlineData("""{"@if":{"exists":{"@path":"$.traits.nope"},"then":{"@path":"$.traits.email"},"else":{"@path":"$.email"}}}""", "\"top@example.com\"")]
    [InlineData("""{"@if":{"exists":{"@path":"$.nothing"},"then":"yes","else":"no"}}""", "\"no\"")]
    [InlineData("""{"@if":{"exists":{"@path":"$.empty"},"then":"yes","else":"no"}}""", "\"yes\"")]   // "" exists
    [InlineData("""{"@if":{"exists":{"@path":"$.missing"},"then":"yes"}}""", "undefined")]
    [InlineData("""{"@if":{"blank":{"@path":"$.empty"},"then":"yes","else":"no"}}""", "\"no\"")]    // blank → else
    [InlineData("""{"@if":{"blank":{"@path":"$.userId"},"then":"yes","else":"no"}}""", "\"yes\"")]
    [InlineData("""{"@if":{"blank":{"@path":"$.missing"},"then":"yes","else":"no"}}""", "\"no\"")]
    [InlineData("""{"@if":{"exists":{"@path":"$.missing"},"then":"yes","else":""}}""", "undefined")] // a falsy else is not taken
    public void If(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Theory]
    [InlineData("""{"@case":{"operator":"lower","value":{"@path":"$.traits.email"}}}""", "\"grace@example.com\"")]
    [InlineData("""{"@case":{"operator":"upper","value":{"@path":"$.traits.first"}}}""", "\"GRACE\"")]
    [InlineData("""{"@case":{"operator":"upper","value":{"@path":"$.traits.age"}}}""", "42")]       // not a string: unchanged
    [InlineData("""{"@case":{"operator":"upper","value":{"@path":"$.missing"}}}""", "undefined")]
    public void Case(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Theory]
    [InlineData("""{"@replace":{"pattern":"o","replacement":"0","value":"foo boo"}}""", "\"f00 b00\"")]
    [InlineData("""{"@replace":{"pattern":"o","replacement":"0","global":false,"value":"foo"}}""", "\"f0o\"")]
    [InlineData("""{"@replace":{"pattern":"O","replacement":"0","ignorecase":true,"value":"foo"}}""", "\"f00\"")]
    [InlineData("""{"@replace":{"pattern":"O","replacement":"0","value":"foo"}}""", "\"foo\"")]
    [InlineData("""{"@replace":{"pattern":".","value":"a.b.c"}}""", "\"abc\"")]                    // plain text, no regex
    [InlineData("""{"@replace":{"pattern":"a","replacement":"$&$&","value":"a"}}""", "\"aa\"")]   // JavaScript's $& is the match
    [InlineData("""{"@replace":{"pattern":"b","replacement":"[$`|$'|$$|$1]","value":"abc"}}""", "\"a[a|c|$|$1]c\"")]
    [InlineData("""{"@replace":{"pattern":"-","replacement":"_","pattern2":"x","replacement2":"y","value":"a-x"}}""", "\"a_y\"")]
    [InlineData("""{"@replace":{"pattern":"2","replacement":"3","value":{"@path":"$.traits.age"}}}""", "\"43\"")]
    [InlineData("""{"@replace":{"pattern":"a","value":{"@path":"$.traits.address"}}}""", "\"\"")] // Segment: non-string → ""
    public void Replace(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Theory]
    [InlineData("""{"@json":{"mode":"encode","value":{"@path":"$.traits.address"}}}""", "\"{\\u0022city\\u0022:\\u0022Paris\\u0022}\"")]
    [InlineData("""{"@json":{"mode":"encode","value":{"@path":"$.missing"}}}""", "undefined")]
    [InlineData("""{"@json":{"mode":"decode","value":{"@path":"$.properties.json"}}}""", """{"a":1}""")]
    [InlineData("""{"@json":{"mode":"decode","value":{"@path":"$.traits.age"}}}""", "42")]
    [InlineData("""{"@json":{"mode":"decode","value":{"@path":"$.properties.bad"}}}""", "\"{x\"")] // Segment keeps text it cannot parse
    public void Json(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Theory]
    [InlineData("""{"@merge":{"direction":"right","objects":[{"a":1,"b":1},{"b":2,"c":2}]}}""", """{"a":1,"b":2,"c":2}""")]
    [InlineData("""{"@merge":{"direction":"left","objects":[{"a":1,"b":1},{"b":2,"c":2}]}}""", """{"b":1,"c":2,"a":1}""")]
    [InlineData("""{"@merge":{"direction":"right","objects":[{"@path":"$.traits.address"},{"@path":"$.missing"},{"zip":"75"}]}}""", """{"city":"Paris","zip":"75"}""")]
    public void Merge(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Theory]
    [InlineData("""{"@flatten":{"separator":".","value":{"@path":"$.traits"}}}""",
        """{"first":"Grace","last":"Hopper","email":"Grace@Example.com","quote":"O\u0027Brien \u003Cb\u003E","age":42,"vip":true,"tags.0":"a","tags.1":"b","address.city":"Paris"}""")]
    [InlineData("""{"@flatten":{"separator":"_","value":{"@path":"$.traits"},"omitArrays":true}}""",
        """{"first":"Grace","last":"Hopper","email":"Grace@Example.com","quote":"O\u0027Brien \u003Cb\u003E","age":42,"vip":true,"tags":["a","b"],"address_city":"Paris"}""")]
    [InlineData("""{"@flatten":{"separator":".","value":{"@path":"$.properties.products"}}}""",
        """{"0.product_id":"p1","0.price":10,"1.product_id":"p2","1.price":20}""")]
    [InlineData("""{"@flatten":{"separator":".","value":{"@path":"$.userId"}}}""", """{"":"u1"}""")]   // a scalar: {"": value}
    [InlineData("""{"@flatten":{"separator":".","value":{"@path":"$.missing"}}}""", "{}")]
    [InlineData("""{"@flatten":{"separator":"","value":{"@path":"$.traits"}}}""", "undefined")]        // Segment throws without a separator
    public void Flatten(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Theory]
    [InlineData("""{"@transform":{"apply":{"name":{"@template":"{{traits.first}} {{traits.last}}"}},"mapping":{"full":{"@path":"$.name"},"gone":{"@path":"$.userId"}}}}""",
        """{"full":"Grace Hopper"}""")]
    [InlineData("""{"@transform":{"apply":{"n":{"@path":"$.traits.age"}},"mapping":{"@path":"$.n"}}}""", "42")]
    public void Transform(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Theory]
    [InlineData("""{"@excludeWhenNull":{"@path":"$.nothing"}}""", "undefined")]
    [InlineData("""{"@excludeWhenNull":{"@path":"$.missing"}}""", "undefined")]
    [InlineData("""{"@excludeWhenNull":{"a":null,"b":{"c":null,"d":1},"e":[null],"f":""}}""", """{"b":{"d":1},"e":[null],"f":""}""")]
    [InlineData("""{"@excludeWhenNull":{"@path":"$.userId"}}""", "\"u1\"")]
    public void ExcludeWhenNull(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Theory]
    [InlineData("""{"@arrayPath":["$.properties.products",{"id":{"@path":"$.product_id"},"cost":{"@path":"$.price"}}]}""",
        """[{"id":"p1","cost":10},{"id":"p2","cost":20}]""")]
    [InlineData("""{"@arrayPath":["$.properties.products"]}""", """[{"product_id":"p1","price":10},{"product_id":"p2","price":20}]""")]
    [InlineData("""{"@arrayPath":["$.traits.address",{"town":{"@path":"$.city"}}]}""", """[{"town":"Paris"}]""")]
    [InlineData("""{"@arrayPath":["$.missing",{"x":{"@path":"$.y"}}]}""", "undefined")]
    [InlineData("""{"@arrayPath":["$.traits.first",{"x":{"@path":"$.y"}}]}""", "\"Grace\"")]       // not a list: as is
    public void ArrayPath(string mapping, string expected) => Assert.Equal(expected, Map(mapping));

    [Fact]
    public void Resolving_does_not_touch_the_event()
    {
        var before = Event.DeepClone();
        Map("""{"@merge":{"direction":"right","objects":[{"@path":"$.traits"},{"x":1}]}}""");
        Map("""{"@path":"$.traits"}""");
        Assert.True(JsonNode.DeepEquals(before, Event));
    }
}
