using System.Text.Json;
using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Cli;

/// <summary>A bug as reported: the invariant, its message, and the trace file written for it.</summary>
public sealed record BugSummary(string Invariant, string Message, string? Trace);

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
    public string Label => RunRequest.LabelOf(this.Scenario, this.Generation, this.Mutant, this.Memory);

    /// <summary>What an exhaustive run explored: its bounds, the schedules, complete or not (null for sampling).</summary>
    public ExhaustiveOutcome? Exhaustive { get; init; }

    /// <summary>The table's result: the bug's invariant, or "clean", or for an exhaustive run "complete (K=2)" / "incomplete (K=2)".</summary>
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
    };
}

/// <summary>
/// What explore --json writes and merge reads: the runs of one explore (or one shard of it), the
/// memory models the whole explore ran under, and the known bugs it left out (the header's lines).
/// </summary>
public sealed record ExploreSummary(string Format, string CoyoteVersion, string? Shard, IReadOnlyList<string> Memory, IReadOnlyList<string> Skipped, IReadOnlyList<RunSummary> Runs)
{
    /// <summary>Version 2: the memory models (the file's and each run's) and the known bugs left out.</summary>
    public const string CurrentFormat = "vmalock-results/2";

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
