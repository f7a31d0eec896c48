using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Proposals;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// Every field of a results file (<see cref="ExploreSummary"/>), its type, its range and its
/// names, checked before merge uses it: anything wrong is one line naming the field, exit 2. The
/// names are held to what explore could have written: this code's scenarios, generations,
/// mutants (in a generation they exist in), proposals (the mutant field of a run explore --patch made), strategies, memory models and findings.
/// </summary>
public static partial class ResultsSchema
{
    public static void Check(JsonObject root, JsonFields fields)
    {
        fields.OnlyFields(root, string.Empty, "format", "coyoteVersion", "shard", "memory", "skipped", "runs");
        var format = fields.String(root, "format", string.Empty);
        if (format != ExploreSummary.CurrentFormat)
        {
            throw fields.Bad($"format must be \"{ExploreSummary.CurrentFormat}\" (a file written by explore --json), not {JsonFields.Describe(root["format"])}");
        }

        fields.String(root, "coyoteVersion", string.Empty);
        if (fields.NullableString(root, "shard", string.Empty) is { } shard && !ShardPattern().IsMatch(shard))
        {
            throw fields.Bad($"shard must be I/N as explore --shard takes it, or null, not {JsonFields.Describe(root["shard"])}");
        }

        var memory = fields.Strings(root, "memory", string.Empty, minCount: 1);
        for (var i = 0; i < memory.Count; i++)
        {
            if (!RunChecks.MemoryModels.Contains(memory[i]))
            {
                throw fields.Bad($"memory[{i}] must be one of {string.Join(", ", RunChecks.MemoryModels)}, not {JsonFields.Describe(JsonValue.Create(memory[i]))}");
            }
        }

        fields.Strings(root, "skipped", string.Empty);
        foreach (var (run, i) in fields.Objects(root, "runs", string.Empty).Select((r, i) => (r, i)))
        {
            CheckRun(run, $"runs[{i}]", memory, fields);
        }
    }

    private static void CheckRun(JsonObject run, string at, IReadOnlyList<string> memory, JsonFields fields)
    {
        fields.OnlyFields(run, at, "label", "scenario", "generation", "mutant", "strategy", "memory", "seed", "readers", "iterationsRequested", "iterationsRun",
            "seconds", "iterationsPerSecond", "maxStepsInAnIteration", "iterationsAtStepBound", "maxConcurrency", "controlledOperations",
            "uncontrolledInvocations", "bug", "abstractStates", "coverage", "exhaustive");
        HarnessException Bad(string problem) => fields.Bad($"{at}: {problem}");
        var scenarioName = fields.String(run, "scenario", at);
        var generation = RunChecks.Generation(fields.String(run, "generation", at), Bad);
        var mutant = fields.String(run, "mutant", at);
        var patch = ProposalRegistry.Find(mutant);
        RunChecks.Scenario(scenarioName, Bad, patch);
        if (patch is not null && RunChecks.PatchIn(patch, generation) is { } notFor)
        {
            throw Bad(notFor);
        }

        if (patch is null && mutant != Correct && RunChecks.MutantIn(RunChecks.Mutant(mutant, Bad), generation) is { } problem)
        {
            throw Bad(problem);
        }

        var strategy = fields.String(run, "strategy", at);
        if (strategy != BenchCommand.Stress)
        {
            RunChecks.Strategy(strategy, Bad);
        }

        var label = RunRequest.LabelOf(run["scenario"]!.GetValue<string>(), generation.Name, run["mutant"]!.GetValue<string>(), fields.OneOf(run, "memory", at, memory), strategy);
        if (fields.String(run, "label", at) != label)
        {
            throw fields.Bad($"{at}.label must be \"{label}\" (its scenario, generation, mutant, memory model and strategy), not {JsonFields.Describe(run["label"])}");
        }

        fields.Integer(run, "seed", at, 0, uint.MaxValue);
        if (RunChecks.Readers((int)fields.Integer(run, "readers", at, int.MinValue, int.MaxValue)) is { } readers)
        {
            throw fields.Bad($"{at}.readers {readers}");
        }

        fields.Integer(run, "iterationsRequested", at, strategy == Strategies.Exhaustive ? 0 : 1, uint.MaxValue);
        fields.Integer(run, "abstractStates", at, 0, int.MaxValue);
        if (fields.OptionalObject(run, "coverage", at) is { } coverage)
        {
            var coverageAt = $"{at}.coverage";
            fields.OnlyFields(coverage, coverageAt, "against", "reached", "of", "beyond");
            fields.String(coverage, "against", coverageAt);
            var of = fields.Integer(coverage, "of", coverageAt, 0, int.MaxValue);
            fields.Integer(coverage, "reached", coverageAt, 0, of);
            fields.Integer(coverage, "beyond", coverageAt, 0, int.MaxValue);
        }

        if (fields.OptionalObject(run, "exhaustive", at) is { } exhaustive)
        {
            var exhaustiveAt = $"{at}.exhaustive";
            if (strategy != Strategies.Exhaustive)
            {
                throw fields.Bad($"{exhaustiveAt} belongs to a run of the exhaustive strategy, not {strategy}");
            }

            fields.OnlyFields(exhaustive, exhaustiveAt, "bound", "choiceBound", "schedules", "pruned", "complete", "branchesLeft", "slice");
            if (fields.NullableString(exhaustive, "slice", exhaustiveAt) is { } slice && !ShardPattern().IsMatch(slice))
            {
                throw fields.Bad($"{exhaustiveAt}.slice must be I/N as explore --shard takes it, or null, not {JsonFields.Describe(exhaustive["slice"])}");
            }

            fields.Integer(exhaustive, "bound", exhaustiveAt, 0, RunChecks.MaxBound);
            fields.Integer(exhaustive, "choiceBound", exhaustiveAt, 0, RunChecks.MaxBound);
            fields.Integer(exhaustive, "schedules", exhaustiveAt, 0, long.MaxValue);
            fields.Integer(exhaustive, "pruned", exhaustiveAt, 0, long.MaxValue);
            fields.Boolean(exhaustive, "complete", exhaustiveAt);
            fields.Integer(exhaustive, "branchesLeft", exhaustiveAt, 0, long.MaxValue);
        }

        fields.Integer(run, "iterationsRun", at, 0, long.MaxValue);
        fields.Number(run, "seconds", at, 0, double.MaxValue);
        fields.Number(run, "iterationsPerSecond", at, 0, double.MaxValue);
        foreach (var count in new[] { "maxStepsInAnIteration", "iterationsAtStepBound", "maxConcurrency" })
        {
            fields.Integer(run, count, at, 0, int.MaxValue);
        }

        fields.Integer(run, "controlledOperations", at, 0, long.MaxValue);
        fields.Strings(run, "uncontrolledInvocations", at);
        if (fields.OptionalObject(run, "bug", at) is { } bug)
        {
            var bugAt = $"{at}.bug";
            fields.OnlyFields(bug, bugAt, "invariant", "message", "trace");
            fields.OneOf(bug, "invariant", bugAt, Findings);
            fields.String(bug, "message", bugAt, mayBeEmpty: true);
            fields.NullableString(bug, "trace", bugAt);
        }
    }

    /// <summary>What a run's mutant is called when it ran the correct port.</summary>
    private const string Correct = "correct";

    /// <summary>What a bug may be: an invariant, or one of the other findings.</summary>
    private static readonly IReadOnlyList<string> Findings = [.. InvariantRegistry.All.Select(i => i.Name), .. Finding.NotInvariants.Select(f => f.Name)];

    [GeneratedRegex(@"^[1-9][0-9]{0,3}/[1-9][0-9]{0,3}$", RegexOptions.CultureInvariant)]
    private static partial Regex ShardPattern();
}
