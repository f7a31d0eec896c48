using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Proposals;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>
/// What makes a run's settings and names acceptable, said once for explore's options and for the
/// options a trace file records: a trace is held to exactly what <c>explore</c> would accept, so
/// <c>regenerate</c> never records a command line that <c>explore</c> refuses. Each check returns
/// the problem ("must be 1..4, not 0") or null; the caller names the option or the field.
/// </summary>
public static class RunChecks
{
    public const int MinReaders = 1;

    public const int MaxReaders = 4;

    public const uint MinMaxSteps = 10;

    public static string? Readers(int readers) =>
        readers is < MinReaders or > MaxReaders ? $"must be {MinReaders}..{MaxReaders}, not {readers}" : null;

    /// <summary>The largest preemption or unusual-choice bound an exhaustive run takes.</summary>
    public const int MaxBound = 20;

    /// <summary>"I/N" with 1 &lt;= I &lt;= N &lt;= 1000 (explore --shard) as a zero-based index and a count, or the problem with it.</summary>
    public static ((int Index, int Count) Slice, string? Problem) Slice(string text)
    {
        var parts = text.Split('/');
        return parts.Length == 2 && int.TryParse(parts[0], out var index) && int.TryParse(parts[1], out var count) && count is >= 1 and <= 1000 && index >= 1 && index <= count
            ? ((index - 1, count), null)
            : ((0, 1), $"must be I/N with 1 <= I <= N <= 1000, not '{HarnessException.Shorten(text)}'");
    }

    public static string? Iterations(long? iterations) => iterations is < 1 ? "must be at least 1" : null;

    public static string? MaxSteps(long maxSteps) => maxSteps < MinMaxSteps ? $"must be at least {MinMaxSteps}, not {maxSteps}" : null;

    /// <summary>A mutant that does not exist in a generation (it mutates code that generation does not have).</summary>
    public static string? MutantIn(Mutant mutant, GenerationInfo generation) =>
        mutant.AppliesTo(generation) ? null : $"mutant '{mutant.Name}' does not exist in generation {generation.Name}";

    /// <summary>
    /// A scenario by name: one of the registry's, or, with <paramref name="patch"/>, one of that
    /// proposal's. A proposal's scenario named without its proposal is refused (it calls functions
    /// only the proposal's kernels have).
    /// </summary>
    public static Scenario Scenario(string name, Func<string, HarnessException> bad, Proposal? patch = null)
    {
        if (patch?.Scenario(name) is { } own)
        {
            return own;
        }

        if (ScenarioRegistry.Find(name) is { } scenario)
        {
            return scenario;
        }

        throw bad(ProposalRegistry.OwnerOf(name) is { } owner
            ? $"scenario '{name}' is proposal {owner.Name}'s: it runs only with --patch {owner.Name}"
            : Unknown("scenario", name, ScenarioRegistry.All.Select(s => s.Name).Concat(patch?.Scenarios.Select(s => s.Name) ?? [])));
    }

    /// <summary>A scenario whose threads call functions a generation does not have.</summary>
    public static string? ScenarioIn(Scenario scenario, GenerationInfo generation) =>
        scenario.RunsOn(generation)
            ? null
            : $"scenario '{scenario.Name}' does not exist in generation {generation.Name} (it calls functions only {string.Join(", ", Generations.All.Where(scenario.RunsOn).Select(g => g.Name))} has)";

    /// <summary>A proposal that is not written for a generation.</summary>
    public static string? PatchIn(Proposal patch, GenerationInfo generation) =>
        patch.AppliesTo(generation) ? null : $"proposal '{patch.Name}' is not written for generation {generation.Name} (it is for {string.Join(", ", patch.Kernels.Select(k => k.Generation))})";

    public static Proposal Patch(string name, Func<string, HarnessException> bad) =>
        ProposalRegistry.Find(name) ?? throw bad(Unknown("proposal", name, ProposalRegistry.All.Select(p => p.Name)));

    public static GenerationInfo Generation(string name, Func<string, HarnessException> bad) =>
        Generations.Find(name) ?? throw bad(Unknown("generation", name, Generations.All.Select(g => g.Name)));

    public static Mutant Mutant(string name, Func<string, HarnessException> bad) =>
        MutantRegistry.Find(name) ?? throw bad(Unknown("mutant", name, MutantRegistry.All.Select(m => m.Name)));

    public static InvariantInfo Invariant(string name, Func<string, HarnessException> bad) =>
        InvariantRegistry.Find(name) ?? throw bad(Unknown("invariant", name, InvariantRegistry.All.Select(i => i.Name)));

    public static string Strategy(string name, Func<string, HarnessException> bad) =>
        Strategies.IsKnown(name) ? name : throw bad(Unknown("strategy", name, Strategies.All.Select(s => s.Name)));

    /// <summary>The memory models of <c>--memory</c> and a trace's <c>options.memory</c>.</summary>
    public static readonly IReadOnlyList<string> MemoryModels = [RunRequest.ScMemory, RunRequest.LkmmMemory];

    public static string Memory(string name, Func<string, HarnessException> bad) =>
        MemoryModels.Contains(name) ? name : throw bad(Unknown("memory model", name, MemoryModels));

    /// <summary>"unknown mutant 'x' (known: a, b, c)".</summary>
    public static string Unknown(string what, string name, IEnumerable<string> known) =>
        $"unknown {what} '{name}' (known: {string.Join(", ", known)})";

    /// <summary>Bad input, for the <c>bad</c> argument of the lookups: the message as it is.</summary>
    public static HarnessException BadInput(string message) => new(ExitCodes.BadInput, message);
}
