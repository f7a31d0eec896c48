using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>A ported function's text as its source file has it: where it is, its doc comment's summary, its body.</summary>
/// <param name="File">The source file, relative to the repository root.</param>
/// <param name="Line">The line of its declaration (1-based).</param>
/// <param name="Summary">Its doc comment's summary on one line: the kernel function, file and version.</param>
/// <param name="Body">Its body (or expression body), its indentation removed.</param>
public sealed record FunctionText(string File, int Line, string Summary, string Body);

/// <summary>
/// The port's and the mutants' sources, embedded in vmalock at build time, and the declaration of
/// a given method in them (found with Roslyn's parser, so strings and comments cannot mislead it).
/// </summary>
public static partial class FunctionSource
{
    private const string Prefix = "source/";

    private static readonly Lazy<IReadOnlyList<(string File, SyntaxTree Tree)>> Trees = new(Load);

    /// <summary>The source text of <paramref name="method"/>, a ported function or a mutant's replacement of one.</summary>
    public static FunctionText Of(MethodInfo method)
    {
        var name = method.Name[(method.Name.LastIndexOf('.') + 1)..];
        var explicitly = method.Name.Contains('.', StringComparison.Ordinal);
        var types = Enclosing(method.DeclaringType!);
        foreach (var (file, tree) in Trees.Value)
        {
            var found = tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().FirstOrDefault(m =>
                m.Identifier.Text == name
                && m.ExplicitInterfaceSpecifier is not null == explicitly
                && m.ParameterList.Parameters.Count == method.GetParameters().Length
                && m.Ancestors().OfType<BaseTypeDeclarationSyntax>().Select(t => t.Identifier.Text).Reverse().SequenceEqual(types));
            if (found is not null)
            {
                var body = (SyntaxNode?)found.Body ?? found.ExpressionBody!;
                return new FunctionText(file, found.GetLocation().GetLineSpan().StartLinePosition.Line + 1, Summary(found), Dedent(body.ToFullString()));
            }
        }

        throw new InvalidOperationException($"no source for {method.DeclaringType}.{method.Name}");
    }

    /// <summary>The names of the type declarations around a method: [SkipRecheck, Patch] for SkipRecheck.Patch.</summary>
    private static List<string> Enclosing(Type type)
    {
        var names = new List<string>();
        for (var t = type; t is not null; t = t.DeclaringType)
        {
            names.Insert(0, t.Name.Split('`')[0]);
        }

        return names;
    }

    /// <summary>The doc comment's summary as one line.</summary>
    private static string Summary(MethodDeclarationSyntax method)
    {
        var doc = method.GetLeadingTrivia().Select(t => t.GetStructure()).OfType<DocumentationCommentTriviaSyntax>().FirstOrDefault();
        var summary = doc?.Content.OfType<XmlElementSyntax>().FirstOrDefault(e => e.StartTag.Name.ToString() == "summary");
        if (summary is null)
        {
            return string.Empty;
        }

        var text = string.Concat(summary.Content.Select(c => c.ToString()));
        var line = string.Join(' ', text.Split('\n').Select(l => l.Trim().TrimStart('/').Trim()).Where(l => l.Length > 0));
        return XmlName().Replace(line, m => m.Groups["name"].Value).Replace("<c>", string.Empty, StringComparison.Ordinal)
            .Replace("</c>", string.Empty, StringComparison.Ordinal).Replace("&amp;", "&", StringComparison.Ordinal);
    }

    /// <summary>The body's lines with their common indentation removed, without blank lines at either end.</summary>
    private static string Dedent(string text)
    {
        var lines = text.Replace("\r", string.Empty, StringComparison.Ordinal).Split('\n').ToList();
        while (lines.Count > 0 && lines[0].Trim().Length == 0)
        {
            lines.RemoveAt(0);
        }

        while (lines.Count > 0 && lines[^1].Trim().Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        var indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    /// <summary>&lt;see cref="X"/&gt; or &lt;paramref name="X"/&gt;: X.</summary>
    [GeneratedRegex("<(see cref|paramref name)=\"(?<name>[^\"]+)\"\\s*/>")]
    private static partial Regex XmlName();

    private static IReadOnlyList<(string File, SyntaxTree Tree)> Load()
    {
        var assembly = typeof(FunctionSource).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return (n[Prefix.Length..].Replace('\\', '/'), CSharpSyntaxTree.ParseText(reader.ReadToEnd()));
            })];
    }
}
