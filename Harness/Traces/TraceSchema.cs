using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Traces;

/// <summary>
/// Every field of a <c>vmalock-trace/1</c> file, its type and its range, checked before the trace
/// is used: a file that fails here is malformed (exit 2, one line naming the field), never
/// "stale". The options are held to what <c>explore</c> accepts (<see cref="RunChecks"/>); the
/// names are checked against the registries by <see cref="Replayer.RequestFor"/>.
/// </summary>
public static partial class TraceSchema
{
    /// <summary>The strategies Coyote 1.7.11 writes in a reproducible trace's settings (ExplorationStrategyExtensions.GetName).</summary>
    public static readonly IReadOnlyList<string> CoyoteStrategies =
        ["random", "probabilistic", "prioritization", "fair-prioritization", "delay-bounding", "fair-delay-bounding", "q-learning", "dfs"];

    /// <summary>Coyote 1.7.11's portfolio modes (PortfolioModeExtensions.FromString).</summary>
    public static readonly IReadOnlyList<string> PortfolioModes = ["none", "fair", "unfair"];

    /// <summary>The settings of Coyote's trace report that are switches (TraceReport.TestSettings).</summary>
    private static readonly string[] SettingSwitches =
    [
        "IsLivenessCheckingEnabled", "IsCollectionAccessRaceCheckingEnabled", "IsLockAccessRaceCheckingEnabled",
        "IsAtomicOperationRaceCheckingEnabled", "IsVolatileOperationRaceCheckingEnabled", "IsMemoryAccessRaceCheckingEnabled",
        "IsControlFlowRaceCheckingEnabled", "IsPartiallyControlledConcurrencyAllowed", "IsPartiallyControlledDataNondeterminismAllowed",
    ];

    /// <summary>Its settings that are 32-bit counts and delays (signed in Coyote, but never negative).</summary>
    private static readonly string[] SettingCounts =
    [
        "StrategyBound", "MaxFairSchedulingSteps", "MaxUnfairSchedulingSteps", "LivenessTemperatureThreshold",
    ];

    /// <summary>Its settings that are unsigned 32-bit numbers.</summary>
    private static readonly string[] SettingUnsigned =
    [
        "TimeoutDelay", "DeadlockTimeout", "UncontrolledConcurrencyResolutionAttempts", "UncontrolledConcurrencyResolutionDelay",
    ];

    /// <summary>
    /// The names of the running Coyote's kinds of scheduling point (its internal
    /// SchedulingPointType, which a reproducible trace spells as <c>sp(NAME)</c>), read from the
    /// engine itself so that the check follows the Coyote in use.
    /// </summary>
    private static readonly HashSet<string> SchedulingPointTypes =
        [.. Enum.GetNames(typeof(Microsoft.Coyote.Runtime.SchedulingPoint).Assembly.GetType("Microsoft.Coyote.Runtime.SchedulingPointType")
            ?? throw new InvalidOperationException($"Coyote {TraceFile.RunningCoyoteVersion} has no Microsoft.Coyote.Runtime.SchedulingPointType: the trace check needs Coyote 1.7.11's"))];

    /// <summary>Checks every field of the trace in <paramref name="root"/>; throws bad input naming the first wrong one.</summary>
    public static void Check(JsonObject root, JsonFields fields)
    {
        fields.OnlyFields(root, string.Empty, "format", "scenario", "generation", "mutant", "options", "invariant", "message",
            "coyoteVersion", "command", "coyoteTrace", "minimizedFrom", "lockOrder", "patch");
        var format = fields.String(root, "format", string.Empty);
        if (format != TraceFile.CurrentFormat)
        {
            throw fields.Bad($"format must be \"{TraceFile.CurrentFormat}\", not {JsonFields.Describe(root["format"])}");
        }

        fields.String(root, "scenario", string.Empty);
        fields.String(root, "generation", string.Empty);
        var mutant = fields.NullableString(root, "mutant", string.Empty);
        if (root.ContainsKey("patch") && fields.String(root, "patch", string.Empty) is var patch && mutant is not null)
        {
            throw fields.Bad($"patch ({JsonFields.Describe(JsonValue.Create(patch))}) and mutant ({JsonFields.Describe(JsonValue.Create(mutant))}) cannot both be set: a run explores one mutant or one proposal");
        }

        CheckOptions(fields.Object(root, "options", string.Empty), fields);
        fields.String(root, "invariant", string.Empty);
        fields.String(root, "message", string.Empty, mayBeEmpty: true);
        fields.String(root, "coyoteVersion", string.Empty);
        fields.String(root, "command", string.Empty, mayBeEmpty: true);
        CheckCoyoteTrace(fields.Object(root, "coyoteTrace", string.Empty), fields);
        if (fields.OptionalObject(root, "minimizedFrom", string.Empty) is { } size)
        {
            fields.OnlyFields(size, "minimizedFrom", "switches", "steps");
            fields.Integer(size, "switches", "minimizedFrom", 0, int.MaxValue);
            fields.Integer(size, "steps", "minimizedFrom", 0, int.MaxValue);
        }

        if (fields.OptionalObject(root, "lockOrder", string.Empty) is { } order)
        {
            fields.OnlyFields(order, "lockOrder", "iteration", "learnt");
            fields.Integer(order, "iteration", "lockOrder", 0, long.MaxValue);
            foreach (var (edge, i) in fields.Objects(order, "learnt", "lockOrder").Select((e, i) => (e, i)))
            {
                var at = $"lockOrder.learnt[{i}]";
                fields.OnlyFields(edge, at, "from", "to", "why", "iteration");
                fields.String(edge, "from", at);
                fields.String(edge, "to", at);
                fields.String(edge, "why", at, mayBeEmpty: true);
                fields.Integer(edge, "iteration", at, 0, long.MaxValue);
            }
        }
    }

    /// <summary>The options only an exhaustive run's trace has (and must have).</summary>
    private static readonly string[] ExhaustiveOptions = ["preemptions", "choices", "reduction", "slice"];

    /// <summary>options: the exploration that found the trace, held to explore's own limits.</summary>
    private static void CheckOptions(JsonObject options, JsonFields fields)
    {
        const string at = "options";
        var exhaustive = fields.String(options, "strategy", at) == Strategies.Exhaustive;
        fields.OnlyFields(options, at, ["strategy", "iterations", "maxSteps", "seed", "readers", "invariants", "memory", .. exhaustive ? ExhaustiveOptions : []]);
        if (options.ContainsKey("memory"))
        {
            OneOf(fields, options, "memory", at, RunChecks.MemoryModels);
        }

        // An exhaustive run has its bounds, and may have no iteration cap (0).
        var iterations = fields.Integer(options, "iterations", at, 0, uint.MaxValue);
        if (exhaustive)
        {
            fields.Integer(options, "preemptions", at, 0, RunChecks.MaxBound);
            fields.Integer(options, "choices", at, 0, RunChecks.MaxBound);
            fields.Boolean(options, "reduction", at);
            if (options.ContainsKey("slice"))
            {
                Limit(fields, "options.slice", RunChecks.Slice(fields.String(options, "slice", at)).Problem);
            }
        }
        else
        {
            Limit(fields, "options.iterations", RunChecks.Iterations(iterations));
        }

        Limit(fields, "options.maxSteps", RunChecks.MaxSteps(fields.Integer(options, "maxSteps", at, 0, uint.MaxValue)));
        fields.Integer(options, "seed", at, 0, uint.MaxValue);
        Limit(fields, "options.readers", RunChecks.Readers((int)fields.Integer(options, "readers", at, int.MinValue, int.MaxValue)));
        fields.Strings(options, "invariants", at, minCount: 1);
    }

    /// <summary>coyoteTrace: Coyote 1.7.11's reproducible trace (TraceReport), every field its reader takes.</summary>
    private static void CheckCoyoteTrace(JsonObject trace, JsonFields fields)
    {
        const string at = "coyoteTrace";
        fields.OnlyFields(trace, at, "TestName", "CoyoteVersion", "Settings", "Steps");
        fields.String(trace, "TestName", at, mayBeEmpty: true);
        fields.String(trace, "CoyoteVersion", at);

        var settings = fields.Object(trace, "Settings", at);
        const string s = "coyoteTrace.Settings";
        fields.OnlyFields(settings, s, [.. new[] { "Strategy", "Seed", "PortfolioMode" }.Concat(SettingSwitches).Concat(SettingCounts).Concat(SettingUnsigned)]);
        OneOf(fields, settings, "Strategy", s, CoyoteStrategies);
        fields.NullableInteger(settings, "Seed", s, 0, uint.MaxValue);
        OneOf(fields, settings, "PortfolioMode", s, PortfolioModes);
        foreach (var name in SettingSwitches)
        {
            fields.Boolean(settings, name, s);
        }

        foreach (var name in SettingCounts)
        {
            fields.Integer(settings, name, s, 0, int.MaxValue);
        }

        foreach (var name in SettingUnsigned)
        {
            fields.Integer(settings, name, s, 0, uint.MaxValue);
        }

        var steps = fields.Strings(trace, "Steps", at, minCount: 1);
        for (var i = 0; i < steps.Count; i++)
        {
            if (!IsStep(steps[i]))
            {
                throw fields.Bad(
                    $"coyoteTrace.Steps[{i}] must be a Coyote step such as \"op(0:1),sp(Interleave),next(1:2)\", \"op(1:2),int(3)\" or \"op(1:2),bool(True)\", not {JsonFields.Describe(JsonValue.Create(steps[i]))}");
            }
        }
    }

    /// <summary>
    /// One step of Coyote 1.7.11's schedule (TraceReport.FromJson): the operation, then a
    /// scheduling decision at a named point with the next operation, or a controlled integer or
    /// boolean choice; operation ids and sequence ids are unsigned 64-bit, integers signed 32-bit.
    /// </summary>
    public static bool IsStep(string step)
    {
        var match = StepPattern().Match(step);
        if (!match.Success)
        {
            return false;
        }

        bool U64(string group) => !match.Groups[group].Success || ulong.TryParse(match.Groups[group].Value, out _);
        return U64("op") && U64("opseq") && U64("next") && U64("nextseq")
            && (!match.Groups["sp"].Success || SchedulingPointTypes.Contains(match.Groups["sp"].Value))
            && (!match.Groups["int"].Success || int.TryParse(match.Groups["int"].Value, out _));
    }

    private static void OneOf(JsonFields fields, JsonObject parent, string field, string at, IReadOnlyList<string> known) =>
        fields.OneOf(parent, field, at, known);

    private static void Limit(JsonFields fields, string name, string? problem)
    {
        if (problem is not null)
        {
            throw fields.Bad($"{name} {problem}");
        }
    }

    [GeneratedRegex(
        @"^op\((?<op>\d{1,20}):(?<opseq>\d{1,20})\),(sp\((?<sp>[A-Za-z]{1,40})\),next\((?<next>\d{1,20}):(?<nextseq>\d{1,20})\)|int\((?<int>-?\d{1,10})\)|bool\((True|False|true|false)\))$",
        RegexOptions.CultureInvariant)]
    private static partial Regex StepPattern();
}
