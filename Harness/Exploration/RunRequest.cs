using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Proposals;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>One Coyote engine run: a scenario on a generation (correct or mutated), with its budget and seed.</summary>
public sealed record RunRequest(
    Scenario Scenario,
    GenerationInfo Generation,
    Mutant? Mutant,
    string Strategy,
    uint Iterations,
    uint MaxSteps,
    uint Seed,
    int TimeoutSeconds,
    int Readers,
    IReadOnlyList<InvariantInfo> Invariants)
{
    /// <summary>The default number of fault threads.</summary>
    public const int DefaultReaders = 2;

    /// <summary>The default bound on scheduling steps per iteration (an iteration of the scenarios takes a few hundred).</summary>
    public const uint DefaultMaxSteps = 5000;

    /// <summary>
    /// The lock-order graph the run starts from (a saved LockOrder trace's replay starts from what
    /// its exploration had learnt, numbering its iteration as it was); null: the documented order.
    /// </summary>
    public LockOrderSnapshot? LockOrderStart { get; init; }

    /// <summary>--memory sc: every access in program order, at once (the default; no choices of its own).</summary>
    public const string ScMemory = "sc";

    /// <summary>--memory lkmm: <see cref="Implementation.Memory.LkmmMemoryModel"/>, loads may read older stores.</summary>
    public const string LkmmMemory = "lkmm";

    /// <summary>The memory model the port runs under: <see cref="ScMemory"/> or <see cref="LkmmMemory"/>.</summary>
    public string Memory { get; init; } = ScMemory;

    /// <summary>
    /// The models explore runs a generation under when no --memory is given, but for those the
    /// generation has a known bug under (<see cref="DefaultMemoryOf"/>).
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultMemory = [LkmmMemory];

    /// <summary>
    /// The models <paramref name="generation"/> runs under when no --memory is given:
    /// <see cref="DefaultMemory"/> without those it has a known bug under (<see cref="KnownBugs"/>),
    /// or sc if none is left.
    /// </summary>
    public static IReadOnlyList<string> DefaultMemoryOf(GenerationInfo generation) =>
        DefaultMemory.Where(m => KnownBugs.Of(generation, m) is null).DefaultIfEmpty(ScMemory).ToList();

    /// <summary>The default preemption bound K of the exhaustive strategy.</summary>
    public const int DefaultPreemptions = 2;

    /// <summary>The default bound B on unusual choice outcomes of the exhaustive strategy.</summary>
    public const int DefaultUnusualChoices = 1;

    /// <summary>Whether the run is bounded-exhaustive (<see cref="ExhaustiveSearch"/>).</summary>
    public bool IsExhaustive => this.Strategy == Strategies.Exhaustive && !this.Stress;

    /// <summary>K: the most preemptions an exhaustive run's schedules have.</summary>
    public int Preemptions { get; init; } = DefaultPreemptions;

    /// <summary>B: the most unusual outcomes of controlled choices an exhaustive run's schedules have.</summary>
    public int UnusualChoices { get; init; } = DefaultUnusualChoices;

    /// <summary>Whether an exhaustive run prunes equivalent schedules (sleep sets); off only to check that pruning loses nothing.</summary>
    public bool Reduce { get; init; } = true;

    /// <summary>With explore --shard I/N: the slice of an exhaustive run's schedule tree this run explores (zero-based index, count).</summary>
    public (int Index, int Count)? TreeShard { get; init; }

    /// <summary>Whether an exhaustive run keeps the digest of each schedule's event stream (tests of the pruning).</summary>
    public bool KeepEventStreams { get; init; }

    /// <summary>Whether the run is stress testing on real threads (explore --mode stress) instead of Coyote.</summary>
    public bool Stress { get; init; }

    /// <summary>What the summary calls the strategy: Coyote's, or "stress".</summary>
    public string StrategyShown => this.Stress ? "stress" : this.Strategy;

    /// <summary>The proposed patch the run explores (explore --patch), if any: never together with a mutant.</summary>
    public Proposal? Patch { get; init; }

    /// <summary>What ran, as the summary, results and trace names call it: the mutant's or the proposal's name, or "correct".</summary>
    public string MutantName => this.Mutant?.Name ?? this.Patch?.Name ?? "correct";

    /// <summary>"fault-vs-munmap 6.5 correct", " under lkmm" for a run under a model other than sc, and " (exhaustive)" for an exhaustive run.</summary>
    public string Label => LabelOf(this.Scenario.Name, this.Generation.Name, this.MutantName, this.Memory, this.StrategyShown);

    /// <summary>A run's label from its names (also for a run read back from a results file).</summary>
    public static string LabelOf(string scenario, string generation, string mutant, string memory, string strategy) =>
        $"{scenario} {generation} {mutant}{(memory == ScMemory ? string.Empty : $" under {memory}")}{(strategy == Strategies.Exhaustive ? " (exhaustive)" : string.Empty)}";

    /// <summary>The explore command line that performs exactly this run.</summary>
    public string CommandLine()
    {
        var parts = new List<string>
        {
            "dotnet run --project Harness -- explore",
            $"--scenario {this.Scenario.Name}",
            $"--generation {this.Generation.Name}",
        };
        if (this.Mutant is not null)
        {
            parts.Add($"--mutant {this.Mutant.Name}");
        }

        if (this.Patch is not null)
        {
            parts.Add($"--patch {this.Patch.Name}");
        }

        parts.Add(this.IsExhaustive
            ? $"--strategy {this.Strategy} --preemptions {this.Preemptions} --choices {this.UnusualChoices}{(this.Reduce ? string.Empty : " --no-reduction")}{(this.Iterations == 0 ? string.Empty : $" --iterations {this.Iterations}")} --max-steps {this.MaxSteps} --readers {this.Readers}{(this.TreeShard is { } t ? $" --shard {t.Index + 1}/{t.Count}" : string.Empty)}"
            : $"{(this.Stress ? "--mode stress" : $"--strategy {this.Strategy}")} --iterations {this.Iterations} --max-steps {this.MaxSteps} --seed {this.Seed} --readers {this.Readers}");
        if (!(this.Mutant is { } mutant ? [mutant.Memory] : DefaultMemoryOf(this.Generation)).SequenceEqual([this.Memory]))
        {
            parts.Add($"--memory {this.Memory}");
        }

        if (this.Invariants.Count != InvariantRegistry.All.Count)
        {
            parts.AddRange(this.Invariants.Select(i => $"--invariant {i.Name}"));
        }

        return string.Join(' ', parts);
    }
}
