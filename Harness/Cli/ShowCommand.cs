using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Proposals;
using VmaLockVerify.Implementation.Generations;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// vmalock show NAME: for a mutant, what the mutant is, and per function it replaces, the difference between
/// the body the generation uses and the mutant's, in the unified format (the whole function as
/// context), to hold against <c>git show</c> of the fix it reverts; for a proposal, the same for
/// what it replaces, and each function it adds in full.
/// </summary>
public static class ShowCommand
{
    public static int Run(string name, TextWriter output)
    {
        if (ProposalRegistry.Find(name) is { } proposal)
        {
            return Proposal(proposal, output);
        }

        var mutant = MutantRegistry.Find(name) ?? throw RunChecks.BadInput(RunChecks.Unknown(
            "mutant or proposal", name, MutantRegistry.All.Select(m => m.Name).Concat(ProposalRegistry.All.Select(p => p.Name))));
        output.WriteLine($"mutant      {mutant.Name}: {mutant.Description}");
        output.WriteLine($"origin      {mutant.Origin}");
        output.WriteLine($"caught by   {mutant.CaughtBy}{(mutant.KernelCheck is { } check ? $" ({check})" : string.Empty)} in {mutant.Scenario}, under {mutant.Memory}");
        output.WriteLine($"generations {string.Join(", ", mutant.Kernels.Select(k => k.Generation))}");
        output.WriteLine($"replaces    {string.Join(", ", mutant.Replaces.Select(f => $"{f}()"))}");

        WriteReplaced(mutant, output);
        return ExitCodes.Clean;
    }

    /// <summary>Per function <paramref name="patch"/> replaces, the diff; one per distinct pair of bodies (a function the generations share is shown once).</summary>
    private static void WriteReplaced(KernelPatch patch, TextWriter output)
    {
        var diffs = patch.Kernels
            .SelectMany(k => KernelFunctions.Replaced(Generations.Find(k.Generation)!.Kernel, k.Kernel, patch.GetType()).Select(f => (k.Generation, Function: f)))
            .GroupBy(x => (x.Function.Name, Base: FunctionSource.Of(x.Function.Base), Mutated: FunctionSource.Of(x.Function.Mutated)))
            .OrderBy(g => patch.Replaces.ToList().IndexOf(g.Key.Name));
        foreach (var diff in diffs)
        {
            output.WriteLine();
            output.WriteLine($"{diff.Key.Name}() on {string.Join(", ", diff.Select(x => x.Generation))}:");
            Write(diff.Key.Base, diff.Key.Mutated, output);
        }
    }

    /// <summary>
    /// A proposal: what it is, its scenarios and their expected verdicts, each function it adds
    /// (the whole body, as a diff from nothing) and each it replaces (as for a mutant).
    /// </summary>
    private static int Proposal(Proposal proposal, TextWriter output)
    {
        output.WriteLine($"proposal    {proposal.Name}: {proposal.Description}");
        output.WriteLine($"origin      {proposal.Origin}");
        output.WriteLine($"generations {string.Join(", ", proposal.Kernels.Select(k => k.Generation))}");
        output.WriteLine($"adds        {string.Join(", ", proposal.Adds.Select(f => $"{f}()"))}");
        output.WriteLine($"replaces    {(proposal.Replaces.Count == 0 ? "nothing" : string.Join(", ", proposal.Replaces.Select(f => $"{f}()")))}");
        foreach (var scenario in proposal.Scenarios)
        {
            output.WriteLine($"scenario    {scenario.Name}: {scenario.Description}; expected {scenario.Verdict}");
        }

        var added = proposal.Kernels
            .SelectMany(k => KernelFunctions.Added(Generations.Find(k.Generation)!.Kernel, k.Kernel).Select(f => (k.Generation, f.Name, Body: FunctionSource.Of(f.Body))))
            .GroupBy(x => (x.Name, x.Body))
            .OrderBy(g => proposal.Adds.ToList().IndexOf(g.Key.Name));
        foreach (var function in added)
        {
            output.WriteLine();
            output.WriteLine($"{function.Key.Name}() on {string.Join(", ", function.Select(x => x.Generation))}:");
            Write(new FunctionText("/dev/null", 0, "(new)", string.Empty), function.Key.Body, output);
        }

        WriteReplaced(proposal, output);
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
