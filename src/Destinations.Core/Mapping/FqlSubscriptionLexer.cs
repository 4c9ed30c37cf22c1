using System.Text;

namespace Destinations.Core.Mapping;

/// <summary>
/// The tokens of a mapping's trigger as Segment's lexer makes them (<c>@segment/fql-ts</c> lexer.js, which
/// <c>@segment/destination-subscriptions</c> parseFql reads), so a trigger copied from Segment means the same here (D31):
/// <list type="bullet">
/// <item>strings are double- or single-quoted, with no escapes (a backslash is itself); the parser strips only double quotes,
/// so a single-quoted string keeps its quotes and <c>event = 'A'</c> compares with the text <c>'A'</c>;</item>
/// <item>a number starts with a digit, <c>-</c> or <c>+</c> and runs over digits and one <c>.</c>; letters right after it
/// (<c>1e3</c>, <c>0x10</c>) are an identifier of their own that the parser skips, so <c>1e3</c> is 1;</item>
/// <item>an identifier is ASCII letters, digits, <c>_</c>, <c>-</c> and backslash-escaped characters, ended by white space,
/// <c>, ) ] . ( = !</c> or the end (so <c>x&gt;5</c> is an error there, and here);</item>
/// <item><c>and</c>, <c>or</c>, <c>&lt;=</c>, <c>&gt;=</c> are keywords only when a separator follows them.</item>
/// </list>
/// What Segment's lexer refuses is a <see cref="FqlSyntaxException"/> here.
/// </summary>
static class FqlSubscriptionLexer
{
    public static List<FqlToken> Tokenize(string text)
    {
        var tokens = new List<FqlToken>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            var at = i + 1;
            if (IsWhitespace(c)) { i++; continue; }
            switch (c)
            {
                case '(': tokens.Add(new(FqlTokenKind.LeftParen, "(", at)); i++; continue;
                case ')': tokens.Add(new(FqlTokenKind.RightParen, ")", at)); i++; continue;
                case ',': tokens.Add(new(FqlTokenKind.Comma, ",", at)); i++; continue;
                case '"' or '\'': tokens.Add(ReadString(text, ref i, c)); continue;
                case '=': tokens.Add(new(FqlTokenKind.Operator, "=", at)); i++; continue;
                case '!':
                    // "!" before a name or "(" negates; otherwise it must be "!=" followed by a separator.
                    if (i + 1 < text.Length && (char.IsAsciiLetter(text[i + 1]) || text[i + 1] == '('))
                    {
                        tokens.Add(new(FqlTokenKind.Operator, "!", at));
                        i++;
                        continue;
                    }
                    if (i + 1 < text.Length && text[i + 1] == '=' && IsTerminator(text, i + 2))
                    {
                        tokens.Add(new(FqlTokenKind.Operator, "!=", at));
                        i += 2;
                        continue;
                    }
                    throw new FqlSyntaxException("expected '=' and a space after '!' (or a condition right after it)", at);
                case '<' or '>':
                    if (i + 1 < text.Length && text[i + 1] == '=')
                    {
                        // Segment's lexer reads ">=5" as ">" then "=", a comparison with the text "=" that never holds.
                        if (!IsTerminator(text, i + 2))
                            throw new FqlSyntaxException($"put a space after '{c}=': Segment's parser reads '{c}=' followed by a value as '{c}' and '='", at);
                        tokens.Add(new(FqlTokenKind.Operator, c + "=", at));
                        i += 2;
                        continue;
                    }
                    tokens.Add(new(FqlTokenKind.Operator, c.ToString(), at));
                    i++;
                    continue;
            }
            if (char.IsAsciiDigit(c) || c is '-' or '+')
            {
                tokens.Add(ReadNumber(text, ref i));
                // Letters glued to a number are an identifier Segment's parser skips (1e3 is 1), unless it is a conjunction.
                if (i < text.Length && IsIdentStart(text[i]))
                {
                    var tail = ReadIdent(text, ref i);
                    if (tail.Text is "and" or "or") tokens.Add(tail);
                }
                continue;
            }
            if (IsIdentStart(c))
            {
                var ident = ReadIdent(text, ref i);
                // Segment's lexer takes "or(" as a name its parser skips, leaving the group's conjunction as it was.
                if (ident.Text is "and" or "or" && !IsTerminator(text, i))
                    throw new FqlSyntaxException($"put a space after '{ident.Text}'", ident.Position);
                tokens.Add(ident);
                continue;
            }
            throw new FqlSyntaxException($"unexpected character '{c}'", at);
        }
        tokens.Add(new(FqlTokenKind.End, "", text.Length + 1));
        return tokens;
    }

    // fql-ts: white space is space, tab and newline (a carriage return is an invalid character there).
    static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n';
    static bool IsTerminator(string text, int i) => i >= text.Length || IsWhitespace(text[i]) || text[i] is ',' or ']' or ')';
    static bool IsIdentStart(char c) => char.IsAsciiLetter(c) || c is '_' or '\\';
    static bool IsIdentPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '\\';

    static FqlToken ReadString(string text, ref int i, char quote)
    {
        var start = i + 1;
        var end = text.IndexOf(quote, i + 1);
        if (end < 0) throw new FqlSyntaxException("unterminated string", start);
        var content = text[(i + 1)..end];
        i = end + 1;
        return new(FqlTokenKind.String, quote == '"' ? content : quote + content + quote, start, quote);
    }

    static FqlToken ReadNumber(string text, ref int i)
    {
        var start = i++;
        var dot = false;
        while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
        {
            if (text[i] == '.')
            {
                if (IsTerminator(text, i + 1)) throw new FqlSyntaxException("a decimal point must be followed by digits", i + 1);
                if (dot) throw new FqlSyntaxException("a number has one decimal point", i + 1);
                dot = true;
            }
            i++;
        }
        return new(FqlTokenKind.Number, text[start..i], start + 1);
    }

    /// <summary>A dotted path: Segment lexes the parts and dots apart and joins them again; an escaped dot is a dot there too.</summary>
    static FqlToken ReadIdent(string text, ref int i)
    {
        var start = i;
        var sb = new StringBuilder();
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\\')
            {
                if (i + 1 >= text.Length) throw new FqlSyntaxException("a backslash must escape a character", i + 1);
                sb.Append(text[i + 1]);
                i += 2;
                continue;
            }
            if (IsIdentPart(c) || (c == '.' && i + 1 < text.Length && IsIdentStart(text[i + 1]) && sb.Length > 0)) { sb.Append(c); i++; continue; }
            break;
        }
        if (!(IsTerminator(text, i) || text[i] is '.' or '(' or '=' or '!'))
            throw new FqlSyntaxException($"expected a space or one of , ) ( = ! after '{sb}', found '{text[i]}'", i + 1);
        return new(FqlTokenKind.Ident, sb.ToString(), start + 1);
    }
}
