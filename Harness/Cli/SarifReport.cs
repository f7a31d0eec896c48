using System.Reflection;
using System.Text.Json;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Traces;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// explore --sarif: the results as a SARIF 2.1.0 log, which code-scanning services and editors
/// show as alerts on the source. One rule per invariant and per other finding (kernel-bug,
/// deadlock, ...). One result per run that found a bug, at the port's line of the step that
/// violated, carrying the replayed interleaving as a code flow: a thread flow per thread, each
/// step at the port's line that made it, with its kernel text, call depth, its place in the
/// global order (the step number <c>replay</c> prints), the protocol state after it, and the
/// reason for the context switch before it.
/// </summary>
public static class SarifReport
{
    /// <summary>The schema the log names.</summary>
    public const string Schema = "https://json.schemastore.org/sarif-2.1.0.json";

    /// <summary>The URI base id of the repository root: every source location is relative to it.</summary>
    public const string SourceRoot = "SRCROOT";

    /// <summary>The key of the fingerprint that identifies a result across explores: scenario/generation/mutant/invariant, then /lkmm under a model other than sc.</summary>
    public const string FingerprintKey = "vmalockRun/v1";

    /// <summary>The thread-flow-location kind that marks the first step after a context switch.</summary>
    public const string ContextSwitch = "context-switch";

    /// <summary>
    /// Writes the log; every buggy run's trace is replayed once to recover its steps (with
    /// <paramref name="replay"/>, which a caller that replays them too can share); each sampling
    /// run's <paramref name="coverage"/> is explore's, or computed here when not given.
    /// </summary>
    public static void Write(
        string path,
        IReadOnlyList<RunResult> results,
        IReadOnlyDictionary<RunResult, string> traces,
        Func<string, ReplayOutcome>? replay = null,
        IReadOnlyList<string>? models = null,
        IReadOnlyList<string>? skipped = null,
        IReadOnlyDictionary<RunResult, StateCoverage>? coverage = null)
    {
        replay ??= Replayer.Replay;
        var rules = InvariantRegistry.All.Select(i => (i.Name, Meaning: i.Property)).Concat(Finding.NotInvariants).ToList();
        var ruleIds = rules.Select(r => r.Name).ToList();
        var root = SourceTree.FindRoot();
        coverage ??= RunSummary.CoverageOf(results);
        var run = new
        {
            tool = new
            {
                driver = new
                {
                    name = "vmalock",
                    version = typeof(SarifReport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
                    rules = rules.Select(r => new
                    {
                        id = r.Name,
                        shortDescription = new { text = r.Meaning },
                        defaultConfiguration = new { level = "error" },
                    }),
                    properties = new { coyoteVersion = TraceFile.RunningCoyoteVersion },
                },
            },
            originalUriBaseIds = new Dictionary<string, object>
            {
                [SourceRoot] = new
                {
                    uri = root is null ? null : new Uri(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar).AbsoluteUri,
                    description = new { text = "The root of the VmaLockVerify checkout: the port's source files are relative to it." },
                },
            },
            results = results.Where(r => r.Bug is not null).Select(r => Result(r, traces.GetValueOrDefault(r), ruleIds, replay)).ToList(),

            // The memory models the explore ran under, the known bugs it left out, and what each run explored.
            properties = new
            {
                memory = models ?? [.. results.Select(r => r.Request.Memory).Distinct()],
                skipped = skipped ?? [],
                explored = results.ToDictionary(
                    r => r.Request.Label,
                    r => RunSummary.ExploredProperties(r, coverage.GetValueOrDefault(r)).ToDictionary(p => p.Name, p => p.Value)),
            },
        };
        var log = new Dictionary<string, object> { ["$schema"] = Schema, ["version"] = "2.1.0", ["runs"] = new[] { run } };
        File.WriteAllText(path, JsonSerializer.Serialize(log, TraceJson.Options) + "\n");
    }

    /// <summary>
    /// A bug as a result. Its location and code flow come from replaying its trace; a trace that
    /// does not replay leaves them out and says why, rather than guessing.
    /// </summary>
    private static object Result(RunResult result, string? trace, List<string> ruleIds, Func<string, ReplayOutcome> replay)
    {
        var bug = result.Bug!;
        var request = result.Request;
        TraceView? view = null;
        string? replayFailure = null;
        if (trace is not null)
        {
            try
            {
                view = replay(trace).View;
            }
            catch (HarnessException e)
            {
                replayFailure = e.Message;
            }
        }

        var last = view?.Steps.Last().Step;
        return new
        {
            ruleId = bug.Invariant,
            ruleIndex = ruleIds.IndexOf(bug.Invariant),
            level = "error",
            message = new { text = $"{bug.Message} (in {request.Label}{(trace is null ? string.Empty : $"; replay: {ReplayCommand.CommandLineFor(trace)}")})" },
            locations = last is null ? null : new[] { Location(last) },
            partialFingerprints = new Dictionary<string, string>
            {
                [FingerprintKey] = $"{request.Scenario.Name}/{request.Generation.Name}/{request.MutantName}/{bug.Invariant}{(request.Memory == RunRequest.ScMemory ? string.Empty : $"/{request.Memory}")}",
            },
            codeFlows = view is null ? null : new[] { CodeFlow(view) },
            properties = new
            {
                scenario = request.Scenario.Name,
                generation = request.Generation.Name,
                mutant = request.MutantName,
                memory = request.Memory,
                trace,
                foundBy = request.CommandLine(),
                replayFailure,
            },
        };
    }

    /// <summary>The interleaving: one thread flow per thread, ordered across threads by the step numbers.</summary>
    private static object CodeFlow(TraceView view)
    {
        var switches = view.Blocks.Skip(1).Select((block, i) => (block.Steps[0].Step.Index, Reason: $"{view.Blocks[i].Thread} -> {block.Thread}: {view.Blocks[i].EndReason}"))
            .ToDictionary(s => s.Index, s => s.Reason);
        return new
        {
            message = new { text = $"{view.Steps.Count()} steps on {view.Threads.Count} threads, {view.Switches} context switch(es); {view.Violation.Invariant} is violated at the last" },
            threadFlows = view.Threads.Select(thread => new
            {
                id = thread,
                message = new { text = thread },
                locations = view.Steps.Where(s => s.Step.Thread == thread).Select(s => FlowLocation(s, switches.GetValueOrDefault(s.Step.Index))).ToList(),
            }).ToList(),
        };
    }

    private static object FlowLocation(ViewStep view, string? switchReason)
    {
        var kinds = Kinds(view.Step.Kind);
        return new
        {
            location = Location(view.Step),
            kinds = switchReason is null ? kinds : [.. kinds, ContextSwitch],
            nestingLevel = view.Step.Depth,
            executionOrder = view.Step.Index,
            state = State(view),
            properties = switchReason is null ? null : new { contextSwitch = switchReason },
        };
    }

    /// <summary>A step at the port's line that made it; a step without a known line keeps its text alone.</summary>
    private static object Location(TraceStep step) => new
    {
        physicalLocation = step.Source is not { } source ? null : new
        {
            artifactLocation = new { uri = string.Join('/', source.File.Split('/').Select(Uri.EscapeDataString)), uriBaseId = SourceRoot },
            region = new { startLine = source.Line },
        },
        message = new { text = TraceRenderer.Marked(step) },
    };

    /// <summary>The SARIF kinds of a step (the spec's verbs and nouns where one fits).</summary>
    private static string[] Kinds(TraceStepKind kind) => kind switch
    {
        TraceStepKind.Enter => ["enter", "function"],
        TraceStepKind.Return => ["exit", "function"],
        TraceStepKind.Access => ["memory"],
        TraceStepKind.Event => ["protocol-event"],
        TraceStepKind.Block => ["sleep"],
        TraceStepKind.Wake => ["wake"],
        TraceStepKind.Choice => ["branch"],
        _ => [],
    };

    /// <summary>The protocol state after the step, as a viewer's watch window shows it: the watched locations and the locks each thread holds.</summary>
    private static Dictionary<string, object>? State(ViewStep view)
    {
        var state = view.State.ToDictionary(s => s.Key, s => (object)new { text = s.Value });
        foreach (var (thread, locks) in view.Held)
        {
            state[$"{thread} holds"] = new { text = string.Join(", ", locks) };
        }

        return state.Count == 0 ? null : state;
    }
}
