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
        var parser = new Parser(FqlLexer.Tokenize(text));
        var root = parser.Or();
        parser.Expect(FqlTokenKind.End);
        return new Fql(text, root);
    }

    public override string ToString() => Text;

    sealed class Parser(List<FqlToken> tokens)
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
                return new FqlNot(Unary());
            }
            return Primary();
        }

        FqlNode Primary()
        {
            var t = Next();
            if (t.Kind == FqlTokenKind.LeftParen)
            {
                var inner = Or();
                Expect(FqlTokenKind.RightParen);
                return inner;
            }
            if (t.Kind != FqlTokenKind.Ident) throw Unexpected(t);
            if ((t.Text is "contains" or "match") && Peek.Kind == FqlTokenKind.LeftParen) return Function(t.Text);
            var field = Field(t);
            var op = Next();
            if (op.Kind != FqlTokenKind.Operator || op.Text == "!")
                throw new FqlSyntaxException($"expected an operator (=, !=, <, >, <=, >=) after '{field.Text}', found {op}", op.Position);
            var value = Literal(Next());
            if (value.Kind == JsonValueKind.Null && op.Text is not ("=" or "!="))
                throw new FqlSyntaxException($"null can only be compared with = or !=", op.Position);
            return new FqlComparison(field, op.Text, value);
        }

        FqlNode Function(string name)
        {
            Expect(FqlTokenKind.LeftParen);
            var field = Field(Next());
            Expect(FqlTokenKind.Comma);
            var arg = Next();
            if (arg.Kind != FqlTokenKind.String)
                throw new FqlSyntaxException($"{name}() needs a string as its second argument, found {arg}", arg.Position);
            Expect(FqlTokenKind.RightParen);
            return name == "contains" ? new FqlContains(field, arg.Text) : new FqlMatch(field, arg.Text);
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
            // Normalised so "100.0" and 100 print alike, as JavaScript's String(Number(x)) would.
            { Kind: FqlTokenKind.Number } => new FqlLiteral(JsonValueKind.Number,
                double.Parse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture)),
            { Kind: FqlTokenKind.Ident, Text: "null" } => new FqlLiteral(JsonValueKind.Null, "null"),
            { Kind: FqlTokenKind.Ident, Text: "true" } => new FqlLiteral(JsonValueKind.True, "true"),
            { Kind: FqlTokenKind.Ident, Text: "false" } => new FqlLiteral(JsonValueKind.False, "false"),
            _ => throw new FqlSyntaxException($"expected a value (string, number, true, false or null), found {t}", t.Position),
        };
    }
}
