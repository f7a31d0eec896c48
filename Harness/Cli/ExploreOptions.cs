namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// The explore verb's options, as parsed (null: not given; Memory, the models of the repeatable
/// --memory, null or empty: <see cref="Exploration.RunRequest.DefaultMemory"/>; Patch, a proposal's
/// name, see <see cref="Proposals.Proposal"/>).
/// </summary>
public sealed record ExploreOptions(
    IReadOnlyList<string> Scenarios,
    string? Generation,
    string? Mutant,
    IReadOnlyList<string> Strategies,
    uint? Iterations,
    uint MaxSteps,
    uint Seed,
    int TimeoutSeconds,
    int Readers,
    IReadOnlyList<string> Invariants,
    string TracesDir,
    string? JsonPath,
    string? JunitPath = null,
    string? SarifPath = null,
    int? Parallel = null,
    string? Shard = null,
    string Mode = ExploreOptions.Systematic,
    IReadOnlyList<string>? Memory = null,
    string? Patch = null)
{
    /// <summary>--preemptions K: the exhaustive strategy's preemption bound (null: not given).</summary>
    public int? Preemptions { get; init; }

    /// <summary>Whether --readers was given (else an exhaustive run takes <see cref="ExhaustiveReaders"/>).</summary>
    public bool ReadersGiven { get; init; }

    /// <summary>--choices B: the exhaustive strategy's bound on unusual choice outcomes (null: not given).</summary>
    public int? Choices { get; init; }

    /// <summary>--no-reduction: the exhaustive strategy explores equivalent schedules too.</summary>
    public bool NoReduction { get; init; }

    /// <summary>--mode systematic: Coyote's controlled scheduler (the default).</summary>
    public const string Systematic = "systematic";

    /// <summary>--mode stress: real threads, random delays, no controlled scheduler.</summary>
    public const string Stress = "stress";

    /// <summary>
    /// Iterations per scenario × generation when none are given: the default explore (every
    /// scenario on every generation, 6.5 and later under lkmm, four engines side by side) then
    /// finishes in about two and a half minutes on 2 cores (docs/bench.md).
    /// </summary>
    public const uint DefaultIterations = 800;

    /// <summary>The default sampling strategy: Coyote's portfolio.</summary>
    public const string DefaultStrategy = "portfolio";

    /// <summary>
    /// The strategies of the main job (no --strategy given): the portfolio sample, and the
    /// bounded-exhaustive run at <see cref="MainJobPreemptions"/>, every pair side by side.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultStrategies = [DefaultStrategy, Exploration.Strategies.Exhaustive];

    /// <summary>
    /// The preemption bound of the main job's exhaustive runs: the largest that keeps the main job
    /// within about five minutes on 2 cores (K=2 alone takes longer than that: docs/bench.md).
    /// </summary>
    public const int MainJobPreemptions = 1;

    /// <summary>The fault threads of an exhaustive run when --readers is not given: one fault against the scenario's writers.</summary>
    public const int ExhaustiveReaders = 1;

    /// <summary>Whether the strategies are the main job's (no --strategy given).</summary>
    public bool MainJob => this.Strategies.SequenceEqual(DefaultStrategies) && this.StrategiesDefaulted;

    /// <summary>Whether no --strategy was given.</summary>
    public bool StrategiesDefaulted { get; init; }

    /// <summary>Where explore writes the traces of the bugs it finds.</summary>
    public const string DefaultTracesDir = "vmalock-traces";
}
