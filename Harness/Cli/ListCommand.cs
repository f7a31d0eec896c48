using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Proposals;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Cli;

/// <summary>vmalock list: everything that can be named on the command line, one line each.</summary>
public static class ListCommand
{
    public static int Run(TextWriter output)
    {
        Section(output, "scenarios", ScenarioRegistry.All.Select(s => (s.Name, s.Description)));
        Section(output, "generations", Generations.All.Select(g => (g.Name, g.Description)));
        Section(output, "mutants", MutantRegistry.All.Select(m =>
            (m.Name, $"{m.Description}; caught by {m.CaughtBy}{(m.KernelCheck is { } check ? $" ({check})" : string.Empty)} in {m.Scenario}" +
                $"{(m.CaughtUnder.Count < RunChecks.MemoryModels.Count ? $" under {string.Join(", ", m.CaughtUnder)} only" : string.Empty)}; from {m.Origin}")));
        Section(output, "proposals", ProposalRegistry.All.Select(p =>
            (p.Name, $"{p.Description}; on {string.Join(", ", p.Kernels.Select(k => k.Generation))}; scenarios: " +
                string.Join(", ", p.Scenarios.Select(s => $"{s.Name} (expected {s.Verdict})")) + $"; from {p.Origin}")));
        Section(output, "invariants", InvariantRegistry.All.Select(i => (i.Name, i.Property)));
        Section(output, "strategies", Strategies.All);
        return ExitCodes.Clean;
    }

    private static void Section(TextWriter output, string title, IEnumerable<(string Name, string Description)> items)
    {
        var list = items.ToList();
        var width = list.Max(i => i.Name.Length);
        output.WriteLine($"{title}:");
        foreach (var (name, description) in list)
        {
            output.WriteLine($"  {name.PadRight(width)}  {description}");
        }

        output.WriteLine();
    }
}
