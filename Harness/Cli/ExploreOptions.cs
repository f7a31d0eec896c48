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
    string Strategy,
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

    /// <summary>The default strategy: Coyote's portfolio.</summary>
    public const string DefaultStrategy = "portfolio";

    /// <summary>Where explore writes the traces of the bugs it finds.</summary>
    public const string DefaultTracesDir = "vmalock-traces";
}
