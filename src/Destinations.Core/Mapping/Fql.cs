using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Segment;

namespace Destinations.Core.Mapping;

/// <summary>
/// A subscription trigger in the FQL subset of docs/partners/usermotion.md "Triggers" (D20): comparisons (<c>= != &lt; &gt; &lt;= &gt;=</c>,
/// <c>= null</c>), <c>contains()</c>, <c>match()</c>, <c>and</c>/<c>or</c>, negation with <c>!</c> or <c>not</c>, parentheses,
/// over <c>type</c>, <c>event</c>, <c>name</c>, <c>userId</c>, <c>anonymousId</c>, <c>groupId</c>, <c>properties.*</c>, <c>traits.*</c>, <c>context.*</c>.
/// Parsed once at start-up; precedence is not &gt; and &gt; or (Segment's own parser has none, so ours accepts more, not less).
/// </summary>
public sealed class Fql
{
    /// <summary>The roots a trigger may read; a path under the three objects needs at least one key.</summary>
    public static readonly IReadOnlySet<string> Fields = new HashSet<string>(StringComparer.Ordinal)
        { "type", "event", "name", "userId", "anonymousId", "groupId", "properties", "traits", "context" };

    Fql(string text, FqlNode root) { Text = text; Root = root; }

    public string Text { get; }
    public FqlNode Root { get; }

    public bool Matches(SegmentEvent e) => Root.Evaluate(e.Json);
    public bool Matches(JsonObject e) => Root.Evaluate(e);

    /// <exception cref="FqlSyntaxException">with a message like "unexpected token ')' at 14" (1-based position).</exception>
    public static Fql Parse(string text)
    {
        var parser = new Parser(FqlLexer.Tokenize(text), subscription: false);
        var root = parser.Or();
        parser.Expect(FqlTokenKind.End);
        return new Fql(text, root);
    }

    /// <summary>
    /// An Actions mapping's trigger, with the semantics of Segment's subscription parser (<c>@segment/destination-subscriptions</c>
    /// parseFql + validate, D31): <c>=</c> compares strings exactly (<c>properties.x = 100</c> needs the number, <c>= "100"</c>
    /// the string), <c>= true</c>/<c>false</c> and <c>!= number</c> need a boolean/number, <c>= null</c>/<c>!= null</c> test
    /// existence; <c>match()</c> is a prefix (<c>"abc*"</c>) or suffix (<c>"*abc"</c>) test; <c>!contains</c>/<c>!match</c> need a
    /// string; a group's conditions are all joined by the last <c>and</c>/<c>or</c> in it. Beyond Segment: <c>anonymousId</c>,
    /// <c>groupId</c>, and <c>!</c>/<c>not</c> before any condition or group (D20).
    /// </summary>
    /// <exception cref="FqlSyntaxException">for anything Segment's parser cannot evaluate, too (e.g. <c>contains(type, …)</c>).</exception>
    public static Fql ParseTrigger(string text)
    {
        var parser = new Parser(FqlLexer.Tokenize(text, subscription: true), subscription: true);
        var root = parser.Group();
        parser.Expect(FqlTokenKind.End);
        return new Fql(text, root);
    }

    public override string ToString() => Text;

    sealed class Parser(List<FqlToken> tokens, bool subscription)
    {
        int _at;
        FqlToken Peek => tokens[_at];
        FqlToken Next() => tokens[_at++];

        static bool IsWord(FqlToken t, string word) => t.Kind == FqlTokenKind.Ident && t.Text == word;

        public FqlToken Expect(FqlTokenKind kind)
        {
            var t = Next();
            if (t.Kind != kind) throw Unexpected(t);
            return t;
        }

        static FqlSyntaxException Unexpected(FqlToken t) =>
            t.Kind == FqlTokenKind.End
                ? new FqlSyntaxException("unexpected end of trigger", t.Position)
                : new FqlSyntaxException($"unexpected token {t}", t.Position);

        public FqlNode Or()
        {
            var left = And();
            while (IsWord(Peek, "or")) { Next(); left = new FqlOr(left, And()); }
            return left;
        }

        /// <summary>Segment's grouping: conditions in a row, all joined by the last conjunction seen (parse-fql.js).</summary>
        public FqlNode Group()
        {
            var children = new List<FqlNode> { Unary() };
            var or = false;
            while (IsWord(Peek, "and") || IsWord(Peek, "or"))
            {
                or = Next().Text == "or";
                children.Add(Unary());
            }
            return children.Count == 1 ? children[0] : new FqlGroup(or, children);
        }

        FqlNode And()
        {
            var left = Unary();
            while (IsWord(Peek, "and")) { Next(); left = new FqlAnd(left, Unary()); }
            return left;
        }

        FqlNode Unary()
        {
            var t = Peek;
            // D20: negation accepts both "!" and "not".
            if ((t.Kind == FqlTokenKind.Operator && t.Text == "!") || IsWord(t, "not"))
            {
                Next();
                // Segment's !contains()/!match() are their own operators (the field must still be a string).
                if (subscription && t.Text == "!" && Peek is { Kind: FqlTokenKind.Ident, Text: "contains" or "match" }
                    && tokens[_at + 1].Kind == FqlTokenKind.LeftParen)
                    return Function(Next().Text, negate: true);
                return new FqlNot(Unary());
            }
            return Primary();
        }

        FqlNode Primary()
        {
            var t = Next();
            if (t.Kind == FqlTokenKind.LeftParen)
            {
                var inner = subscription ? Group() : Or();
                Expect(FqlTokenKind.RightParen);
                return inner;
            }
            if (t.Kind != FqlTokenKind.Ident) throw Unexpected(t);
            if ((t.Text is "contains" or "match") && Peek.Kind == FqlTokenKind.LeftParen) return Function(t.Text, negate: false);
            var field = Field(t);
            var op = Next();
            if (op.Kind != FqlTokenKind.Operator || op.Text == "!")
                throw new FqlSyntaxException($"expected an operator (=, !=, <, >, <=, >=) after '{field.Text}', found {op}", op.Position);
            var value = Literal(Next());
            if (value.Kind == JsonValueKind.Null && op.Text is not ("=" or "!="))
                throw new FqlSyntaxException($"null can only be compared with = or !=", op.Position);
            return subscription ? new FqlSubscriptionComparison(field, op.Text, value) : new FqlComparison(field, op.Text, value);
        }

        FqlNode Function(string name, bool negate)
        {
            var at = Expect(FqlTokenKind.LeftParen).Position;
            var field = Field(Next());
            Expect(FqlTokenKind.Comma);
            var arg = Next();
            // Segment's parser takes String() of any value token here: contains(event, 5) looks for "5", a bare name for itself.
            var text = arg.Kind switch
            {
                FqlTokenKind.String => arg.Text,
                FqlTokenKind.Number when subscription => FqlValues.JsString(FqlValues.JsNumber(arg.Text)),
                FqlTokenKind.Ident when subscription => arg.Text,
                _ => throw new FqlSyntaxException($"{name}() needs a string as its second argument, found {arg}", arg.Position),
            };
            Expect(FqlTokenKind.RightParen);
            if (!subscription) return name == "contains" ? new FqlContains(field, text) : new FqlMatch(field, text);
            // Segment's parser builds no condition for contains()/match() on type, so such a trigger never matches there.
            if (field.Segments[0] == "type")
                throw new FqlSyntaxException($"{name}() does not apply to type (Segment's triggers test type with = or !=)", at);
            if (name == "contains") return new FqlStringTest(field, FqlStringTest.Kind.Contains, text, negate);
            // Segment's match(): "abc*" is a prefix test, anything else a suffix test on the text after its first character. It looks
            // for '*"' at the end of the token, so a single-quoted 'abc*' is a suffix test on "abc*'" (its quotes are kept).
            return arg is { Kind: FqlTokenKind.String, Quote: '"' } && text.EndsWith('*')
                ? new FqlStringTest(field, FqlStringTest.Kind.StartsWith, text[..^1], negate)
                : new FqlStringTest(field, FqlStringTest.Kind.EndsWith, text.Length > 0 ? text[1..] : "", negate);
        }

        static FqlField Field(FqlToken t)
        {
            if (t.Kind != FqlTokenKind.Ident) throw Unexpected(t);
            var segments = t.Text.Split('.').Select(s => s.Replace('\u0000', '.')).ToList();
            var display = t.Text.Replace('\u0000', '.');
            if (segments.Any(s => s.Length == 0))
                throw new FqlSyntaxException($"invalid field '{display}'", t.Position);
            if (!Fields.Contains(segments[0]) || (segments.Count > 1 && segments[0] is not ("properties" or "traits" or "context")))
                throw new FqlSyntaxException(
                    $"unknown field '{display}' (use type, event, name, userId, anonymousId, groupId, properties.*, traits.* or context.*)", t.Position);
            return new FqlField(display, segments);
        }

        static FqlLiteral Literal(FqlToken t) => t switch
        {
            { Kind: FqlTokenKind.String } => new FqlLiteral(JsonValueKind.String, t.Text),
            // Printed as JavaScript's String(Number(x)) prints it ("100.0" is "100", "+5" is "5", "-" is "NaN"): Segment
            // compares that text with event, name, type and userId.
            { Kind: FqlTokenKind.Number } => new FqlLiteral(JsonValueKind.Number, FqlValues.JsString(FqlValues.JsNumber(t.Text))),
            { Kind: FqlTokenKind.Ident, Text: "null" } => new FqlLiteral(JsonValueKind.Null, "null"),
            { Kind: FqlTokenKind.Ident, Text: "true" } => new FqlLiteral(JsonValueKind.True, "true"),
            { Kind: FqlTokenKind.Ident, Text: "false" } => new FqlLiteral(JsonValueKind.False, "false"),
            _ => throw new FqlSyntaxException($"expected a value (string, number, true, false or null), found {t}", t.Position),
        };
    }
}
