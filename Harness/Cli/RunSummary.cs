using System.Text.Json;
using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Cli;

/// <summary>A bug as reported: the invariant, its message, and the trace file written for it.</summary>
public sealed record BugSummary(string Invariant, string Message, string? Trace);

/// <summary>
/// How many of the abstract states of a complete exhaustive run (<paramref name="Against"/>, the
/// denominator <paramref name="Of"/>) a sampling run of the same scenario, generation, mutant and
/// memory model reached (<paramref name="Reached"/>), and how many it reached beyond them
/// (<paramref name="Beyond"/>: states outside the bound, or with more fault threads).
/// </summary>
public sealed record StateCoverage(string Against, int Reached, int Of, int Beyond)
{
    /// <summary>"portfolio, 800 iterations: 412 of 430 abstract states of the complete exhaustive run (K=2, ...)".</summary>
    public string Describe(string strategy, long iterations) =>
        $"{strategy}, {iterations} iterations: {this.Reached} of {this.Of} abstract states of {this.Against}{(this.Beyond > 0 ? $" (and {this.Beyond} beyond it)" : string.Empty)}";
}

/// <summary>One run as explore reports it: the table row, the --json entry, and what merge reads back.</summary>
public sealed record RunSummary(
    string Scenario,
    string Generation,
    string Mutant,
    string Strategy,
    string Memory,
    uint Seed,
    int Readers,
    uint IterationsRequested,
    long IterationsRun,
    double Seconds,
    double IterationsPerSecond,
    int MaxStepsInAnIteration,
    int IterationsAtStepBound,
    int MaxConcurrency,
    long ControlledOperations,
    IReadOnlyList<string> UncontrolledInvocations,
    BugSummary? Bug)
{
    public string Label => RunRequest.LabelOf(this.Scenario, this.Generation, this.Mutant, this.Memory, this.Strategy);

    /// <summary>The distinct abstract protocol states the run visited.</summary>
    public long AbstractStates { get; init; }

    /// <summary>For a sampling run: its share of a complete exhaustive run's states (null: no such run beside it).</summary>
    public StateCoverage? Coverage { get; init; }

    /// <summary>What an exhaustive run explored: its bounds, the schedules, complete or not (null for sampling).</summary>
    public ExhaustiveOutcome? Exhaustive { get; init; }

    /// <summary>The table's result: the bug's invariant, or "clean", or for an exhaustive run "complete (K=2)" / "incomplete (K=2)".</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Result => this.Bug is not null ? this.Bug.Invariant
        : this.Exhaustive is { } e ? $"{(e.Complete ? "complete" : "incomplete")} (K={e.Bound})"
        : "clean";

    public static RunSummary From(RunResult r, string? trace) => new(
        r.Request.Scenario.Name,
        r.Request.Generation.Name,
        r.Request.MutantName,
        r.Request.StrategyShown,
        r.Request.Memory,
        r.Request.Seed,
        r.Request.Readers,
        r.Request.Iterations,
        r.IterationsRun,
        Math.Round(r.Elapsed.TotalSeconds, 3),
        Math.Round(r.IterationsPerSecond, 1),
        r.MaxStepsInAnIteration,
        r.IterationsAtStepBound,
        r.MaxConcurrency,
        r.ControlledOperations,
        r.Uncontrolled,
        r.Bug is null ? null : new BugSummary(r.Bug.Invariant, r.Bug.Message, trace))
    {
        Exhaustive = r.Exhaustive,
        AbstractStates = r.AbstractStates.Count,
    };

    /// <summary>
    /// The runs of several shards with each exhaustive run's slices (explore --shard I/N) added up
    /// into one: schedules, pruned, iterations and time summed; complete only when every slice of
    /// it is there and complete; its abstract states the most any slice reached (a lower bound:
    /// the slices' states overlap). Other runs are kept as they are, in their order.
    /// </summary>
    public static IReadOnlyList<RunSummary> MergeSlices(IReadOnlyList<RunSummary> runs)
    {
        var sliced = runs.Where(r => r.Exhaustive?.Slice is not null).GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.ToList());
        var merged = new List<RunSummary>();
        foreach (var run in runs)
        {
            if (run.Exhaustive?.Slice is null)
            {
                merged.Add(run);
            }
            else if (sliced.Remove(run.Label, out var slices))
            {
                merged.Add(AddUp(slices));
            }
        }

        return merged;
    }

    /// <summary>One exhaustive run's slices as one run (<see cref="MergeSlices"/>).</summary>
    private static RunSummary AddUp(IReadOnlyList<RunSummary> slices)
    {
        var e = slices.Select(r => r.Exhaustive!).ToList();
        var count = e[0].Slice!.Split('/')[1];
        var present = e.Select(x => x.Slice!).Distinct().Order(StringComparer.Ordinal).ToList();
        var all = e.All(x => x.Slice!.EndsWith($"/{count}", StringComparison.Ordinal)) && present.Count == int.Parse(count, System.Globalization.CultureInfo.InvariantCulture);
        var seconds = slices.Sum(r => r.Seconds);
        var iterations = slices.Sum(r => r.IterationsRun);
        return slices[0] with
        {
            IterationsRun = iterations,
            Seconds = Math.Round(seconds, 3),
            IterationsPerSecond = Math.Round(iterations / Math.Max(seconds, 0.001), 1),
            MaxStepsInAnIteration = slices.Max(r => r.MaxStepsInAnIteration),
            IterationsAtStepBound = slices.Sum(r => r.IterationsAtStepBound),
            MaxConcurrency = slices.Max(r => r.MaxConcurrency),
            ControlledOperations = slices.Sum(r => r.ControlledOperations),
            UncontrolledInvocations = [.. slices.SelectMany(r => r.UncontrolledInvocations)],
            Bug = slices.Select(r => r.Bug).FirstOrDefault(b => b is not null),
            AbstractStates = slices.Max(r => r.AbstractStates),
            Exhaustive = new ExhaustiveOutcome(
                e[0].Bound, e[0].ChoiceBound, e.Sum(x => x.Schedules), e.Sum(x => x.Pruned), all && e.All(x => x.Complete), e.Sum(x => x.BranchesLeft),
                all ? null : string.Join(", ", present)),
        };
    }

    /// <summary>
    /// What a run explored, as name/value pairs for report formats (JUnit test-case properties,
    /// SARIF's properties.explored): the strategy and its bounds, the counts, complete or not, the
    /// abstract states, and a sampling run's coverage.
    /// </summary>
    public static IReadOnlyList<(string Name, string Value)> ExploredProperties(RunResult r, StateCoverage? coverage)
    {
        var request = r.Request;
        var properties = new List<(string, string)>
        {
            ("strategy", request.StrategyShown),
            ("memory", request.Memory),
            ("readers", $"{request.Readers}"),
            ("iterations", $"{r.IterationsRun}"),
            ("abstractStates", $"{r.AbstractStates.Count}"),
        };
        if (r.Exhaustive is { } e)
        {
            properties.AddRange(
            [
                ("preemptionBound", $"{e.Bound}"),
                ("choiceBound", $"{e.ChoiceBound}"),
                ("schedules", $"{e.Schedules}"),
                ("pruned", $"{e.Pruned}"),
                ("complete", e.Complete ? "true" : "false"),
                ("branchesLeft", $"{e.BranchesLeft}"),
            ]);
        }
        else if (!request.Stress)
        {
            properties.Add(("seed", $"{request.Seed}"));
        }

        if (coverage is not null)
        {
            properties.AddRange([("coverageAgainst", coverage.Against), ("coverageReached", $"{coverage.Reached}"), ("coverageOf", $"{coverage.Of}"), ("coverageBeyond", $"{coverage.Beyond}")]);
        }

        return properties;
    }

    /// <summary>
    /// Each sampling run's coverage against the complete exhaustive run of the same scenario,
    /// generation and mutant among <paramref name="results"/>, under the same memory model or sc
    /// (whose executions lkmm contains), with no more fault threads than it has, when there is one.
    /// </summary>
    public static IReadOnlyDictionary<RunResult, StateCoverage> CoverageOf(IReadOnlyList<RunResult> results)
    {
        var coverage = new Dictionary<RunResult, StateCoverage>();
        foreach (var sample in results.Where(r => !r.Request.IsExhaustive && !r.Request.Stress))
        {
            var q = sample.Request;
            var denominator = results.FirstOrDefault(x => x.Exhaustive is { Complete: true, Slice: null } && x.Bug is null
                && x.Request.Scenario == q.Scenario && x.Request.Generation == q.Generation && x.Request.Mutant == q.Mutant
                && (x.Request.Memory == q.Memory || x.Request.Memory == RunRequest.ScMemory) && x.Request.Readers <= q.Readers);
            if (denominator is { Exhaustive: { } e })
            {
                var reached = sample.AbstractStates.Count(denominator.AbstractStates.Contains);
                coverage[sample] = new StateCoverage(
                    $"the complete exhaustive run (K={e.Bound}, B={e.ChoiceBound}, {denominator.Request.Readers} reader thread(s), {denominator.Request.Memory})",
                    reached,
                    denominator.AbstractStates.Count,
                    sample.AbstractStates.Count - reached);
            }
        }

        return coverage;
    }
}

/// <summary>
/// What explore --json writes and merge reads: the runs of one explore (or one shard of it), the
/// memory models the whole explore ran under, and the known bugs it left out (the header's lines).
/// </summary>
public sealed record ExploreSummary(string Format, string CoyoteVersion, string? Shard, IReadOnlyList<string> Memory, IReadOnlyList<string> Skipped, IReadOnlyList<RunSummary> Runs)
{
    /// <summary>
    /// Version 3: each run's abstract states, a sampling run's coverage of a complete exhaustive
    /// run, an exhaustive run's bounds and counts (version 2 added the memory models and the
    /// known bugs left out).
    /// </summary>
    public const string CurrentFormat = "vmalock-results/3";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>Reads a results file; a missing or malformed one (any field: <see cref="ResultsSchema"/>) is bad input (exit 2).</summary>
    public static ExploreSummary Load(string path) => HarnessJson.Read<ExploreSummary>(
        path,
        "results",
        Json,
        ResultsSchema.Check,
        _ => true,
        $"not a {CurrentFormat} file written by explore --json");
}
