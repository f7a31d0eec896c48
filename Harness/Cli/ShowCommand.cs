using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Implementation.Generations;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// vmalock show MUTANT: what the mutant is, and per function it replaces, the difference between
/// the body the generation uses and the mutant's, in the unified format (the whole function as
/// context), to hold against <c>git show</c> of the fix it reverts.
/// </summary>
public static class ShowCommand
{
    public static int Run(string name, TextWriter output)
    {
        var mutant = RunChecks.Mutant(name, RunChecks.BadInput);
        output.WriteLine($"mutant      {mutant.Name}: {mutant.Description}");
        output.WriteLine($"origin      {mutant.Origin}");
        output.WriteLine($"caught by   {mutant.CaughtBy}{(mutant.KernelCheck is { } check ? $" ({check})" : string.Empty)} in {mutant.Scenario}, under {mutant.Memory}");
        output.WriteLine($"generations {string.Join(", ", mutant.Kernels.Select(k => k.Generation))}");
        output.WriteLine($"replaces    {string.Join(", ", mutant.Replaces.Select(f => $"{f}()"))}");

        // One diff per distinct pair of bodies: a function the generations share is shown once.
        var diffs = mutant.Kernels
            .SelectMany(k => KernelFunctions.Replaced(Generations.Find(k.Generation)!.Kernel, k.Kernel, mutant.GetType()).Select(f => (k.Generation, Function: f)))
            .GroupBy(x => (x.Function.Name, Base: FunctionSource.Of(x.Function.Base), Mutated: FunctionSource.Of(x.Function.Mutated)))
            .OrderBy(g => mutant.Replaces.ToList().IndexOf(g.Key.Name));
        foreach (var diff in diffs)
        {
            output.WriteLine();
            output.WriteLine($"{diff.Key.Name}() on {string.Join(", ", diff.Select(x => x.Generation))}:");
            Write(diff.Key.Base, diff.Key.Mutated, output);
        }

        return ExitCodes.Clean;
    }

    /// <summary>The two bodies as a unified diff with the whole function as context.</summary>
    private static void Write(FunctionText from, FunctionText to, TextWriter output)
    {
        output.WriteLine($"--- {from.File}:{from.Line}  {from.Summary}");
        output.WriteLine($"+++ {to.File}:{to.Line}  {to.Summary}");
        var lines = InlineDiffBuilder.Diff(from.Body, to.Body, ignoreWhiteSpace: false).Lines;
        output.WriteLine($"@@ -1,{lines.Count(l => l.Type != ChangeType.Inserted)} +1,{lines.Count(l => l.Type != ChangeType.Deleted)} @@");
        foreach (var line in lines)
        {
            var mark = line.Type switch
            {
                ChangeType.Inserted => '+',
                ChangeType.Deleted => '-',
                _ => ' ',
            };
            output.WriteLine($"{mark}{line.Text}".TrimEnd());
        }
    }
}
