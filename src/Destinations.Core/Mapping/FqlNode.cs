using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Destinations.Core.Mapping;

/// <summary>A parsed trigger expression, evaluated against a Segment event's JSON.</summary>
public abstract record FqlNode
{
    public abstract bool Evaluate(JsonObject e);
}

public sealed record FqlAnd(FqlNode Left, FqlNode Right) : FqlNode
{
    public override bool Evaluate(JsonObject e) => Left.Evaluate(e) && Right.Evaluate(e);
}

public sealed record FqlOr(FqlNode Left, FqlNode Right) : FqlNode
{
    public override bool Evaluate(JsonObject e) => Left.Evaluate(e) || Right.Evaluate(e);
}

public sealed record FqlNot(FqlNode Inner) : FqlNode
{
    public override bool Evaluate(JsonObject e) => !Inner.Evaluate(e);
}

/// <summary>A field of the event: <c>type</c>, <c>event</c>, <c>properties.plan</c>, … (a path from the event's root).</summary>
public sealed record FqlField(string Text, IReadOnlyList<string> Segments)
{
    public JsonNode? Read(JsonObject e)
    {
        JsonNode? node = e;
        foreach (var s in Segments)
        {
            node = node switch
            {
                JsonObject o => o[s],
                JsonArray a when int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => null,
            };
            if (node is null) return null;
        }
        return node;
    }
}

/// <summary>A literal on the right of a comparison: a string, a number, true/false, or null.</summary>
public sealed record FqlLiteral(JsonValueKind Kind, string Text)
{
    public double? Number => FqlValues.ToNumber(Kind, Text);
}

/// <summary>
/// <c>=</c> / <c>!=</c> compare the string forms, like Segment's subscription validator (<c>String(actual) === String(expected)</c>),
/// so <c>properties.total = 100</c> matches 100 and "100"; <c>= null</c> is true when the field is absent or null.
/// <c>&lt; &gt; &lt;= &gt;=</c> compare numbers (numeric strings count); anything else is false.
/// </summary>
public sealed record FqlComparison(FqlField Field, string Operator, FqlLiteral Value) : FqlNode
{
    public override bool Evaluate(JsonObject e)
    {
        var actual = Field.Read(e);
        var isNull = actual is null || actual.GetValueKind() == JsonValueKind.Null;
        if (Value.Kind == JsonValueKind.Null)
            return Operator == "=" ? isNull : !isNull;
        switch (Operator)
        {
            case "=": return !isNull && FqlValues.Equal(actual!, Value);
            case "!=": return isNull || !FqlValues.Equal(actual!, Value);
        }
        var left = isNull ? null : FqlValues.ToNumber(actual!);
        var right = Value.Number;
        if (left is not { } l || right is not { } r) return false;
        return Operator switch
        {
            "<" => l < r,
            ">" => l > r,
            "<=" => l <= r,
            ">=" => l >= r,
            _ => false,
        };
    }
}

/// <summary><c>contains(field, "x")</c>: the field is a string holding the text (ordinal, case-sensitive).</summary>
public sealed record FqlContains(FqlField Field, string Text) : FqlNode
{
    public override bool Evaluate(JsonObject e) =>
        FqlValues.StringOf(Field.Read(e)) is { } s && s.Contains(Text, StringComparison.Ordinal);
}

/// <summary><c>match(field, "glob")</c>: the whole string matches; <c>*</c> is any run of characters, <c>?</c> one character.</summary>
public sealed record FqlMatch(FqlField Field, string Glob) : FqlNode
{
    readonly Regex _regex = new("^" + Regex.Escape(Glob).Replace("\\*", ".*").Replace("\\?", ".") + "$",
        RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));

    public override bool Evaluate(JsonObject e) => FqlValues.StringOf(Field.Read(e)) is { } s && _regex.IsMatch(s);
}

/// <summary>Segment's group: every child joined by one conjunction (the last one written in the group).</summary>
public sealed record FqlGroup(bool Or, IReadOnlyList<FqlNode> Children) : FqlNode
{
    public override bool Evaluate(JsonObject e) => Or ? Children.Any(c => c.Evaluate(e)) : Children.All(c => c.Evaluate(e));
}

/// <summary>
/// A trigger comparison as Segment's subscription validator decides it (destination-subscriptions parse-fql.js + validate.js):
/// see <see cref="Fql.ParseTrigger"/>.
/// </summary>
public sealed record FqlSubscriptionComparison(FqlField Field, string Operator, FqlLiteral Value) : FqlNode
{
    public override bool Evaluate(JsonObject e)
    {
        var actual = Field.Read(e);
        var root = Field.Segments[0];
        var path = root is "properties" or "traits" or "context";
        var idLike = root is "userId" or "anonymousId" or "groupId";
        var present = actual is not null && actual.GetValueKind() != JsonValueKind.Null;
        var kind = actual?.GetValueKind();

        if (path || idLike || root == "name")
        {
            if (Operator == "!=" && Value.Kind == JsonValueKind.Null) return present;   // exists
            if (Operator == "=" && Value.Kind == JsonValueKind.Null) return !present;   // not_exists
        }
        if (path || idLike)
        {
            if (Operator == "=" && Value.Kind == JsonValueKind.True) return kind == JsonValueKind.True;     // is_true
            if (Operator == "=" && Value.Kind == JsonValueKind.False) return kind == JsonValueKind.False;   // is_false
        }
        if (path && Value.Kind == JsonValueKind.Number && Operator is "=" or "!=")
        {
            // number_equals / number_not_equals: only a number is compared.
            if (kind != JsonValueKind.Number) return false;
            return (actual!.GetValue<double>() == Value.Number) == (Operator == "=");
        }

        var expected = Value.Text; // String(expected): the string, JavaScript's number text, "true", "false" or "null"
        var equal = kind == JsonValueKind.String && actual!.GetValue<string>() == expected;
        switch (Operator)
        {
            case "=": return equal;
            case "!=": return !equal;
        }
        // < <= > >=: the actual value must be a number; the expected one is Number(expected).
        if (kind != JsonValueKind.Number) return false;
        var l = actual!.GetValue<double>();
        var r = Value.Kind switch
        {
            JsonValueKind.Number => Value.Number ?? double.NaN,
            JsonValueKind.True => 1,
            JsonValueKind.False or JsonValueKind.Null => 0,
            _ => FqlValues.JsNumber(Value.Text),
        };
        return Operator switch
        {
            "<" => l < r,
            ">" => l > r,
            "<=" => l <= r,
            ">=" => l >= r,
            _ => false,
        };
    }
}

/// <summary>Segment's contains / starts_with / ends_with and their negations: false unless the field is a string.</summary>
public sealed record FqlStringTest(FqlField Field, FqlStringTest.Kind Test, string Text, bool Negate) : FqlNode
{
    public enum Kind { Contains, StartsWith, EndsWith }

    public override bool Evaluate(JsonObject e)
    {
        if (FqlValues.StringOf(Field.Read(e)) is not { } s) return false;
        var hit = Test switch
        {
            Kind.Contains => s.Contains(Text, StringComparison.Ordinal),
            Kind.StartsWith => s.StartsWith(Text, StringComparison.Ordinal),
            _ => s.EndsWith(Text, StringComparison.Ordinal),
        };
        return hit != Negate;
    }
}

static class FqlValues
{
    /// <summary>JavaScript's <c>Number(text)</c> for a string: trimmed; "" is 0; not a number is NaN.</summary>
    public static double JsNumber(string text)
    {
        var t = text.Trim();
        if (t.Length == 0) return 0;
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
    }

    /// <summary>JavaScript's <c>String(number)</c>: the shortest round-trip digits, plain from 1e-6 up to 1e21, else 1e+21 / 1e-7.</summary>
    public static string JsString(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsInfinity(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return "0";
        var r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        var e = 0;
        if (r.IndexOf('E') is var at and >= 0)
        {
            e = int.Parse(r[(at + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..at];
        }
        var dot = r.IndexOf('.');
        var whole = dot < 0 ? r : r[..dot];
        var fraction = dot < 0 ? "" : r[(dot + 1)..];
        // value = 0.digits × 10^n, digits without leading or trailing zeros
        var all = whole + fraction;
        var lead = all.Length - all.TrimStart('0').Length;
        var digits = all.Trim('0');
        var n = whole.Length - lead + e;
        var k = digits.Length;
        string text;
        if (k <= n && n <= 21) text = digits + new string('0', n - k);
        else if (0 < n && n <= 21) text = digits[..n] + "." + digits[n..];
        else if (-6 < n && n <= 0) text = "0." + new string('0', -n) + digits;
        else text = digits[..1] + (k > 1 ? "." + digits[1..] : "") + "e" + (n - 1 >= 0 ? "+" : "-") + Math.Abs(n - 1).ToString(CultureInfo.InvariantCulture);
        return d < 0 ? "-" + text : text;
    }

    public static string? StringOf(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static bool Equal(JsonNode actual, FqlLiteral expected)
    {
        var kind = actual.GetValueKind();
        // Two numbers compare as numbers (100 = 100.0), as JavaScript's String() would print them alike.
        if (kind == JsonValueKind.Number && expected.Kind == JsonValueKind.Number)
            return ToNumber(actual) == expected.Number;
        return TextOf(actual) is { } text && text == expected.Text;
    }

    /// <summary>The text JavaScript's <c>String()</c> gives a scalar; null for objects and arrays (never equal to a literal).</summary>
    static string? TextOf(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.String => node.GetValue<string>(),
        JsonValueKind.Number => ToNumber(node) is { } d ? JsString(d) : node.ToJsonString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    public static double? ToNumber(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.Number => node.GetValue<double>(),
        JsonValueKind.String => ToNumber(JsonValueKind.String, node.GetValue<string>()),
        _ => null,
    };

    public static double? ToNumber(JsonValueKind kind, string text) =>
        kind is JsonValueKind.Number or JsonValueKind.String
        && double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && text.Trim().Length > 0
            ? d
            : null;
}
