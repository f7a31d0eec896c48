using System.Text;
using System.Text.RegularExpressions;
using VmaLockVerify.Harness.Exploration;
using Cond = VmaLockVerify.Harness.Litmus.LitmusCondition;
using Expr = VmaLockVerify.Harness.Litmus.LitmusExpr;
using Instr = VmaLockVerify.Harness.Litmus.LitmusInstruction;

namespace VmaLockVerify.Harness.Litmus;

/// <summary>
/// Reads a C litmus test as tools/memory-model/litmus-tests writes them: the <c>C name</c> line,
/// comments <c>(* ... *)</c> (the first <c>Result:</c> in them is the expected observation), the
/// init block, <c>P0</c>..<c>Pn</c>, then <c>locations</c>, <c>filter</c> and one of
/// <c>exists</c>/<c>~exists</c>/<c>forall</c>. Any error is a <see cref="HarnessException"/> with
/// exit code 2 naming the file, the line and what was expected.
/// </summary>
public sealed partial class LitmusParser
{
    private static readonly HashSet<string> TypeWords = ["int", "long", "unsigned", "atomic_t", "atomic_long_t", "spinlock_t", "intptr_t", "u32", "u64"];

    private readonly string file;
    private readonly List<Token> tokens;
    private readonly StringBuilder comments = new();
    private readonly HashSet<string> locals = [];
    private int position;

    private LitmusParser(string file, string text)
    {
        this.file = file;
        this.tokens = this.Tokenize(text);
    }

    /// <summary>Parses <paramref name="text"/>, naming <paramref name="file"/> in errors.</summary>
    public static LitmusTest Parse(string file, string text) => new LitmusParser(file, text).Test();

    /// <summary>Reads and parses a file.</summary>
    public static LitmusTest ParseFile(string path) =>
        File.Exists(path)
            ? Parse(path, File.ReadAllText(path))
            : throw new HarnessException(ExitCodes.BadInput, $"litmus file not found: {path}");

    private Token Current => this.tokens[this.position];

    private LitmusTest Test()
    {
        var header = this.Next();
        if (header.Text != "C")
        {
            throw this.Error(header, "'C name' on the first line");
        }

        var name = this.Next();
        if (name.Kind != TokenKind.Word || name.Line != header.Line)
        {
            throw this.Error(name, "the test's name after 'C'");
        }

        var (init, registerInit) = this.InitBlock();
        var threads = new List<LitmusThread>();
        while (this.Current.Kind == TokenKind.Word && ProcessName().IsMatch(this.Current.Text))
        {
            threads.Add(this.Thread(threads.Count));
        }

        if (threads.Count == 0)
        {
            throw this.Error(this.Current, "a process 'P0(...) { ... }'");
        }

        Cond? filter = null;
        var shown = new List<Cond.Atom>();
        Cond.Quantified? condition = null;
        while (condition is null)
        {
            var t = this.Current;
            switch (t.Text)
            {
                case "locations":
                    this.Next();
                    shown.AddRange(this.LocationsList());
                    break;
                case "filter":
                    this.Next();
                    filter = this.Condition();
                    break;
                case "exists":
                case "forall":
                case "~":
                    condition = this.Quantified();
                    break;
                default:
                    throw this.Error(t, "'exists', '~exists' or 'forall' after the processes");
            }
        }

        if (this.Current.Kind != TokenKind.End)
        {
            throw this.Error(this.Current, "the end of the file after the condition");
        }

        var text = this.comments.ToString();
        var result = ResultLine().Match(text);
        var limit = KnownLimitLine().Match(text);
        return new LitmusTest(
            this.file,
            name.Text,
            result.Success ? result.Groups[1].Value : null,
            limit.Success ? limit.Groups[1].Value : null,
            init,
            registerInit,
            threads,
            condition,
            filter,
            shown);
    }

    private (Dictionary<string, object> Init, Dictionary<(int, string), object> Registers) InitBlock()
    {
        var init = new Dictionary<string, object>(StringComparer.Ordinal);
        var registers = new Dictionary<(int, string), object>();
        this.Expect("{", "the init block '{ ... }'");
        while (this.Current.Text != "}")
        {
            var start = this.Current;
            if (start.Kind == TokenKind.End)
            {
                throw this.Error(start, "'}' to close the init block");
            }

            if (start.Kind == TokenKind.Number && this.tokens[this.position + 1].Text == ":")
            {
                var thread = int.Parse(this.Next().Text);
                this.Next();
                var register = this.Word("a register name in the init block");
                this.Expect("=", "'=' in the init block");
                registers[(thread, register)] = this.InitValue();
            }
            else
            {
                string? nameOfLocation = null;
                while (this.Current.Kind == TokenKind.Word || this.Current.Text == "*")
                {
                    var w = this.Next();
                    if (w.Kind == TokenKind.Word)
                    {
                        nameOfLocation = w.Text;
                    }
                }

                if (nameOfLocation is null || TypeWords.Contains(nameOfLocation))
                {
                    throw this.Error(this.Current, "a location name in the init block");
                }

                init[nameOfLocation] = 0L;
                if (this.Current.Text == "=")
                {
                    this.Next();
                    init[nameOfLocation] = this.InitValue();
                }
            }

            if (this.Current.Text == ";")
            {
                this.Next();
            }
            else if (this.Current.Text != "}")
            {
                throw this.Error(this.Current, "';' or '}' in the init block");
            }
        }

        this.Next();
        return (init, registers);
    }

    private object InitValue()
    {
        var t = this.Next();
        switch (t.Text)
        {
            case "-" when this.Current.Kind == TokenKind.Number:
                return -long.Parse(this.Next().Text);
            case "&":
                return new LitmusLocation(this.Word("a location after '&'"));
            case "ATOMIC_INIT":
                this.Expect("(", "'(' after ATOMIC_INIT");
                var value = this.InitValue();
                this.Expect(")", "')' after ATOMIC_INIT(value");
                return value;
        }

        return t.Kind switch
        {
            TokenKind.Number => long.Parse(t.Text),
            TokenKind.Word => new LitmusLocation(t.Text),
            _ => throw this.Error(t, "a number or a location as an initial value"),
        };
    }

    private LitmusThread Thread(int expected)
    {
        var header = this.Next();
        if (header.Text != $"P{expected}")
        {
            throw this.Error(header, $"process P{expected}");
        }

        this.Expect("(", $"'(' after P{expected}");
        while (this.Current.Text != ")")
        {
            if (this.Current.Kind == TokenKind.End)
            {
                throw this.Error(this.Current, $"')' to close the parameters of P{expected}");
            }

            this.Next();
        }

        this.Next();
        this.locals.Clear();
        var code = new List<Instr>();
        this.Expect("{", $"'{{' to open the body of P{expected}");
        while (this.Current.Text != "}")
        {
            this.Statement(code);
        }

        this.Next();
        return new LitmusThread(expected, code);
    }

    private void Statement(List<Instr> code)
    {
        var t = this.Current;
        if (t.Kind == TokenKind.End)
        {
            throw this.Error(t, "'}' to close the process body");
        }

        if (t.Text == "{")
        {
            this.Next();
            while (this.Current.Text != "}")
            {
                this.Statement(code);
            }

            this.Next();
            return;
        }

        if (t.Text == ";")
        {
            this.Next();
            return;
        }

        if (TypeWords.Contains(t.Text))
        {
            this.Declaration(code);
            return;
        }

        if (t.Text == "if")
        {
            this.Next();
            this.Expect("(", "'(' after if");
            var condition = this.Expression();
            this.Expect(")", "')' after the if condition");
            var jump = code.Count;
            code.Add(new Instr.Jump(t.Line, condition, -1));
            this.Statement(code);
            if (this.Current.Text == "else")
            {
                this.Next();
                var skip = code.Count;
                code.Add(new Instr.Jump(t.Line, null, -1));
                code[jump] = new Instr.Jump(t.Line, condition, code.Count);
                this.Statement(code);
                code[skip] = new Instr.Jump(t.Line, null, code.Count);
            }
            else
            {
                code[jump] = new Instr.Jump(t.Line, condition, code.Count);
            }

            return;
        }

        if (t.Text == "(" && this.tokens[this.position + 1].Text == "void")
        {
            this.Next();
            this.Next();
            this.Expect(")", "')' after '(void'");
        }

        if (this.Current.Kind == TokenKind.Word && this.tokens[this.position + 1].Text == "=")
        {
            var target = this.Next();
            if (!this.locals.Contains(target.Text))
            {
                throw this.Error(target, $"a declared local on the left of '=' ('{target.Text}' is not one; plain stores are not supported, use WRITE_ONCE)");
            }

            this.Next();
            code.Add(this.Compile(target.Line, target.Text, this.Expression()));
        }
        else
        {
            var e = this.Expression();
            if (e is not Expr.Call)
            {
                throw this.Error(t, "a primitive call, an assignment, 'if' or a declaration");
            }

            code.Add(this.Compile(t.Line, null, e));
        }

        this.Expect(";", "';' after the statement");
    }

    private void Declaration(List<Instr> code)
    {
        while (TypeWords.Contains(this.Current.Text))
        {
            this.Next();
        }

        while (true)
        {
            while (this.Current.Text == "*")
            {
                this.Next();
            }

            var name = this.Next();
            if (name.Kind != TokenKind.Word)
            {
                throw this.Error(name, "a local's name in its declaration");
            }

            this.locals.Add(name.Text);
            if (this.Current.Text == "=")
            {
                this.Next();
                code.Add(this.Compile(name.Line, name.Text, this.Expression()));
            }

            if (this.Current.Text != ",")
            {
                break;
            }

            this.Next();
        }

        this.Expect(";", "';' after the declaration");
    }

    /// <summary>A primitive call becomes a memory instruction; anything else must be free of calls.</summary>
    private Instr Compile(int line, string? target, Expr e)
    {
        if (e is Expr.Call call)
        {
            if (!LitmusPrimitives.All.TryGetValue(call.Function, out var op))
            {
                throw this.Error(line, $"a known primitive, not '{call.Function}'");
            }

            if (call.Args.Count != op.Arity)
            {
                throw this.Error(line, $"{op.Arity} argument(s) to {op.Name}, not {call.Args.Count}");
            }

            foreach (var a in call.Args)
            {
                this.NoCalls(a);
            }

            return new Instr.Primitive(line, target, op, call.Args);
        }

        this.NoCalls(e);
        return target is null
            ? throw this.Error(line, "a primitive call or an assignment")
            : new Instr.Assign(line, target, e);
    }

    private void NoCalls(Expr e)
    {
        switch (e)
        {
            case Expr.Call c:
                throw this.Error(c.Line, $"a primitive call only as a whole statement or right of '=' (found {c.Function} inside an expression)");
            case Expr.Unary u:
                this.NoCalls(u.Operand);
                break;
            case Expr.Binary b:
                this.NoCalls(b.Left);
                this.NoCalls(b.Right);
                break;
            case Expr.Deref d:
                this.NoCalls(d.Pointer);
                break;
        }
    }

    private static readonly string[][] BinaryLevels =
        [["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", ">", "<=", ">="], ["+", "-"], ["*", "/", "%"]];

    private Expr Expression(int level = 0)
    {
        if (level == BinaryLevels.Length)
        {
            return this.UnaryExpression();
        }

        var left = this.Expression(level + 1);
        while (BinaryLevels[level].Contains(this.Current.Text))
        {
            var op = this.Next();
            left = new Expr.Binary(op.Line, op.Text, left, this.Expression(level + 1));
        }

        return left;
    }

    private Expr UnaryExpression()
    {
        var t = this.Next();
        switch (t.Text)
        {
            case "*":
                return new Expr.Deref(t.Line, this.UnaryExpression());
            case "&":
                return this.UnaryExpression();
            case "-" or "!" or "~":
                return new Expr.Unary(t.Line, t.Text, this.UnaryExpression());
            case "(":
                var inner = this.Expression();
                this.Expect(")", "')'");
                return inner;
        }

        if (t.Kind == TokenKind.Number)
        {
            return new Expr.Number(t.Line, long.Parse(t.Text));
        }

        if (t.Kind != TokenKind.Word)
        {
            throw this.Error(t, "an expression");
        }

        if (this.Current.Text != "(")
        {
            return new Expr.Name(t.Line, t.Text);
        }

        this.Next();
        var args = new List<Expr>();
        while (this.Current.Text != ")")
        {
            args.Add(this.Expression());
            if (this.Current.Text == ",")
            {
                this.Next();
            }
            else if (this.Current.Text != ")")
            {
                throw this.Error(this.Current, $"',' or ')' in the arguments of {t.Text}");
            }
        }

        this.Next();
        return new Expr.Call(t.Line, t.Text, args);
    }

    private List<Cond.Atom> LocationsList()
    {
        this.Expect("[", "'[' after locations");
        var atoms = new List<Cond.Atom>();
        while (this.Current.Text != "]")
        {
            var (thread, name) = this.Reference();
            atoms.Add(new Cond.Atom(thread, name, null, false));
            if (this.Current.Text == ";")
            {
                this.Next();
            }
            else if (this.Current.Text != "]")
            {
                throw this.Error(this.Current, "';' or ']' in locations");
            }
        }

        this.Next();
        return atoms;
    }

    private Cond.Quantified Quantified()
    {
        var start = this.Current;
        var kind = Cond.Quantifier.Exists;
        if (start.Text == "~")
        {
            this.Next();
            kind = Cond.Quantifier.NotExists;
            if (this.Current.Text != "exists")
            {
                throw this.Error(this.Current, "'exists' after '~'");
            }
        }
        else if (start.Text == "forall")
        {
            kind = Cond.Quantifier.Forall;
        }

        this.Next();
        var from = this.position;
        var body = this.Condition();
        var text = string.Join(" ", this.tokens.Skip(from).Take(this.position - from).Select(t => t.Text))
            .Replace("( ", "(", StringComparison.Ordinal).Replace(" )", ")", StringComparison.Ordinal)
            .Replace(" : ", ":", StringComparison.Ordinal).Replace(" = ", "=", StringComparison.Ordinal);
        return new Cond.Quantified(kind, body, $"{(kind == Cond.Quantifier.NotExists ? "~exists" : kind == Cond.Quantifier.Forall ? "forall" : "exists")} {text}");
    }

    /// <summary>A disjunction of conjunctions (<c>\/</c> binds weaker than <c>/\</c>).</summary>
    private Cond Condition(bool conjunction = false)
    {
        var op = conjunction ? "/\\" : "\\/";
        Cond Operand() => conjunction ? this.ConditionAtom() : this.Condition(conjunction: true);
        var left = Operand();
        while (this.Current.Text == op)
        {
            this.Next();
            var right = Operand();
            left = conjunction ? new Cond.And(left, right) : new Cond.Or(left, right);
        }

        return left;
    }

    private Cond ConditionAtom()
    {
        var t = this.Current;
        if (t.Text is "~" or "not")
        {
            this.Next();
            return new Cond.Not(this.ConditionAtom());
        }

        if (t.Text == "(")
        {
            this.Next();
            var inner = this.Condition();
            this.Expect(")", "')' in the condition");
            return inner;
        }

        var (thread, name) = this.Reference();
        var op = this.Next();
        if (op.Text is not ("=" or "==" or "!="))
        {
            throw this.Error(op, $"'=' after {name} in the condition");
        }

        var v = this.Next();
        object value = v.Text == "-" && this.Current.Kind == TokenKind.Number ? -long.Parse(this.Next().Text)
            : v.Kind == TokenKind.Number ? long.Parse(v.Text)
            : v.Kind == TokenKind.Word ? new LitmusLocation(v.Text)
            : throw this.Error(v, "a number or a location as a value in the condition");
        return new Cond.Atom(thread, name, value, op.Text == "!=");
    }

    private (int? Thread, string Name) Reference()
    {
        var t = this.Next();
        if (t.Kind == TokenKind.Number && this.Current.Text == ":")
        {
            this.Next();
            return (int.Parse(t.Text), this.Word("a register after 'N:'"));
        }

        return t.Kind == TokenKind.Word ? (null, t.Text) : throw this.Error(t, "a location or 'N:register'");
    }

    private string Word(string what)
    {
        var t = this.Next();
        return t.Kind == TokenKind.Word ? t.Text : throw this.Error(t, what);
    }

    private void Expect(string text, string what)
    {
        var t = this.Next();
        if (t.Text != text)
        {
            throw this.Error(t, what);
        }
    }

    private Token Next()
    {
        var t = this.tokens[this.position];
        if (t.Kind != TokenKind.End)
        {
            this.position++;
        }

        return t;
    }

    private HarnessException Error(Token at, string expected) =>
        this.Error(at.Line, $"{expected}, found {(at.Kind == TokenKind.End ? "the end of the file" : $"'{at.Text}'")}");

    private HarnessException Error(int line, string message) =>
        new(ExitCodes.BadInput, $"{this.file}:{line}: expected {message}");

    private enum TokenKind
    {
        Word,
        Number,
        Symbol,
        End,
    }

    private readonly record struct Token(TokenKind Kind, string Text, int Line);

    private static readonly string[] Symbols = ["/\\", "\\/", "==", "!=", "<=", ">=", "&&", "||"];

    private List<Token> Tokenize(string text)
    {
        var result = new List<Token>();
        var line = 1;
        var i = 0;
        var depth = 0; // herd's (* comments *) live outside braces; inside, (*x is C

        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
                i++;
            }
            else if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if ((depth == 0 && Starts(text, i, "(*")) || Starts(text, i, "/*"))
            {
                var close = text[i] == '(' ? "*)" : "*/";
                var end = text.IndexOf(close, i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    throw this.Error(line, $"'{close}' to close the comment opened here, found the end of the file");
                }

                var body = text[(i + 2)..end];
                this.comments.AppendLine(body);
                line += body.Count(ch => ch == '\n');
                i = end + 2;
            }
            else if (Starts(text, i, "//"))
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }
            }
            else if (result.Count == 1 && result[0].Text == "C" && result[0].Line == line)
            {
                // The test's name: anything up to white space ("2+2W+poonceonces", "Z6.0+...").
                result.Add(Scan(text, ref i, TokenKind.Word, ch => !char.IsWhiteSpace(ch), line));
            }
            else if (char.IsLetter(c) || c == '_')
            {
                result.Add(Scan(text, ref i, TokenKind.Word, ch => char.IsLetterOrDigit(ch) || ch == '_', line));
            }
            else if (char.IsDigit(c))
            {
                result.Add(Scan(text, ref i, TokenKind.Number, char.IsDigit, line));
            }
            else
            {
                var symbol = Symbols.FirstOrDefault(s => Starts(text, i, s)) ?? c.ToString();
                depth += symbol == "{" ? 1 : symbol == "}" ? -1 : 0;
                result.Add(new Token(TokenKind.Symbol, symbol, line));
                i += symbol.Length;
            }
        }

        result.Add(new Token(TokenKind.End, string.Empty, line));
        return result;
    }

    /// <summary>The token of the longest run of <paramref name="keep"/> characters from <paramref name="i"/>.</summary>
    private static Token Scan(string text, ref int i, TokenKind kind, Func<char, bool> keep, int line)
    {
        var start = i;
        while (i < text.Length && keep(text[i]))
        {
            i++;
        }

        return new Token(kind, text[start..i], line);
    }

    private static bool Starts(string text, int at, string prefix) => string.CompareOrdinal(text, at, prefix, 0, prefix.Length) == 0;

    [GeneratedRegex(@"^P[0-9]+$")]
    private static partial Regex ProcessName();

    [GeneratedRegex(@"Result:\s*(\w+)")]
    private static partial Regex ResultLine();

    [GeneratedRegex(@"Known-limit:\s*(\w+)")]
    private static partial Regex KnownLimitLine();
}
