using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Harness.Traces;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Invariants;

[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace VmaLockVerify.Tests;

/// <summary>Builds engine runs and finds the repository's files.</summary>
internal static class TestSupport
{
    public static RunRequest Request(
        string scenario,
        string generation,
        string? mutant = null,
        string strategy = "portfolio",
        uint iterations = 200,
        uint seed = 1,
        int readers = RunRequest.DefaultReaders,
        params string[] invariants)
    {
        var mutated = mutant is null ? null : MutantRegistry.Find(mutant) ?? throw new ArgumentException(mutant);
        return new(
            ScenarioRegistry.Find(scenario) ?? throw new ArgumentException(scenario),
            Generations.Find(generation) ?? throw new ArgumentException(generation),
            mutated,
            strategy,
            iterations,
            RunRequest.DefaultMaxSteps,
            seed,
            0,
            readers,
            invariants.Length == 0 ? InvariantRegistry.All : [.. invariants.Select(i => InvariantRegistry.Find(i) ?? throw new ArgumentException(i))])
        {
            Memory = mutated?.Memory ?? RunRequest.ScMemory, // a mutant runs under the model that catches it (ordering mutants: lkmm)
        };
    }

    /// <summary>The mutants caught only under a weak memory model (lkmm), clean under sc.</summary>
    public static IEnumerable<Mutant> OrderingMutants => MutantRegistry.All.Where(m => m.Memory != RunRequest.ScMemory);

    /// <summary>The repository root (the folder holding VmaLockVerify.sln).</summary>
    public static string RepositoryRoot =>
        SourceTree.FindRoot() ?? throw new InvalidOperationException($"{SourceTree.Marker} not found above {AppContext.BaseDirectory}");

    /// <summary>The saved traces in traces/.</summary>
    public static IEnumerable<string> SavedTraces =>
        Directory.EnumerateFiles(Path.Combine(RepositoryRoot, "traces"), "*.trace.json").Order(StringComparer.Ordinal);

    /// <summary>
    /// Explores the requests with engines side by side, all at once (at least
    /// <see cref="SideBySide.DefaultEngines"/>); the results in their order. A test's runs are few
    /// and alike: with fewer engines than runs the last ones finish with engines idle (the correct
    /// port's matrix took 152 s with 4 engines, 127 s with one per run, one after the other).
    /// </summary>
    public static RunResult[] RunAll(IReadOnlyList<RunRequest> requests) =>
        SideBySide.Run(requests.Count, Math.Max(SideBySide.DefaultEngines, requests.Count), i => Explorer.Run(requests[i]));

    /// <summary>Runs the vmalock command line in-process and captures its output.</summary>
    public static (int ExitCode, string Output, string Error) Vmalock(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Harness.Cli.CommandLine.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
