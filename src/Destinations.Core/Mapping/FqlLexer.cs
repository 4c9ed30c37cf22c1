using System.Globalization;
using System.Text;

namespace Destinations.Core.Mapping;

enum FqlTokenKind { Ident, String, Number, Operator, LeftParen, RightParen, Comma, End }

/// <param name="Position">1-based start of the token in the trigger text (for error messages).</param>
/// <param name="Quote">For a string, the quote it was written with; a single-quoted trigger string keeps its quotes in
/// <paramref name="Text"/>, as Segment's subscription parser only strips double quotes.</param>
readonly record struct FqlToken(FqlTokenKind Kind, string Text, int Position, char Quote = '"')
{
    public override string ToString() => Kind switch
    {
        FqlTokenKind.End => "end of trigger",
        FqlTokenKind.String => $"string \"{Text}\"",
        _ => $"'{Text}'",
    };
}

/// <summary>
/// Splits an FQL trigger into tokens. Identifiers are dotted paths (<c>properties.plan</c>); a backslash takes the next
/// character literally so keys with spaces or dots can be addressed (<c>properties.my\ key</c>), as in Segment's FQL.
/// With <c>subscription</c>, the tokens of Segment's own lexer (<c>@segment/fql-ts</c>, which a mapping's trigger goes
/// through): see <see cref="FqlSubscriptionLexer"/>.
/// </summary>
static class FqlLexer
{
    public static List<FqlToken> Tokenize(string text, bool subscription = false)
    {
        if (subscription) return FqlSubscriptionLexer.Tokenize(text);
        var tokens = new List<FqlToken>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            var at = i + 1;
            if (char.IsWhiteSpace(c)) { i++; continue; }
            switch (c)
            {
                case '(': tokens.Add(new(FqlTokenKind.LeftParen, "(", at)); i++; continue;
                case ')': tokens.Add(new(FqlTokenKind.RightParen, ")", at)); i++; continue;
                case ',': tokens.Add(new(FqlTokenKind.Comma, ",", at)); i++; continue;
                case '"': tokens.Add(ReadString(text, ref i)); continue;
                case '=': tokens.Add(new(FqlTokenKind.Operator, "=", at)); i++; continue;
                case '!' or '<' or '>':
                    var two = i + 1 < text.Length && text[i + 1] == '=';
                    tokens.Add(new(FqlTokenKind.Operator, two ? c + "=" : c.ToString(), at));
                    i += two ? 2 : 1;
                    continue;
            }
            if (char.IsAsciiDigit(c) || (c == '-' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
            {
                tokens.Add(ReadNumber(text, ref i));
                continue;
            }
            if (IsIdentStart(c) || c == '\\')
            {
                tokens.Add(ReadIdent(text, ref i));
                continue;
            }
            throw new FqlSyntaxException($"unexpected character '{c}'", at);
        }
        tokens.Add(new(FqlTokenKind.End, "", text.Length + 1));
        return tokens;
    }

    static bool IsIdentStart(char c) => char.IsAsciiLetter(c) || c == '_' || c == '$';
    static bool IsIdentPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' or '-' or '.';

    static FqlToken ReadString(string text, ref int i)
    {
        var start = i + 1;
        var sb = new StringBuilder();
        i++;
        while (i < text.Length && text[i] != '"')
        {
            if (text[i] == '\\' && i + 1 < text.Length) i++;
            sb.Append(text[i++]);
        }
        if (i >= text.Length) throw new FqlSyntaxException("unterminated string", start);
        i++;
        return new(FqlTokenKind.String, sb.ToString(), start);
    }

    static FqlToken ReadNumber(string text, ref int i)
    {
        var start = i;
        if (text[i] == '-') i++;
        while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
        var raw = text[start..i];
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            throw new FqlSyntaxException($"invalid number '{raw}'", start + 1);
        return new(FqlTokenKind.Number, raw, start + 1);
    }

    static FqlToken ReadIdent(string text, ref int i)
    {
        var start = i;
        var sb = new StringBuilder();
        while (i < text.Length && (IsIdentPart(text[i]) || text[i] == '\\'))
        {
            if (text[i] == '\\')
            {
                if (i + 1 >= text.Length) throw new FqlSyntaxException("a backslash must escape a character", i + 1);
                // Escaped dots are kept as a marker so the parser does not split the path there.
                sb.Append(text[i + 1] == '.' ? '\u0000' : text[i + 1]);
                i += 2;
                continue;
            }
            sb.Append(text[i++]);
        }
        return new(FqlTokenKind.Ident, sb.ToString(), start + 1);
    }
}
