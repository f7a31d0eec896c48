using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Proposals;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Harness.Traces;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Cli;

/// <summary>What explore runs: the runs (of its shard), the memory models of the whole plan, and the header's lines for the known bugs left out.</summary>
public sealed record ExplorePlan(IReadOnlyList<RunRequest> Runs, IReadOnlyList<string> Memory, IReadOnlyList<string> Skipped);

/// <summary>vmalock explore: plans the runs, checks the harness is honest, runs the engines, reports.</summary>
public static class ExploreCommand
{
    public static int Run(ExploreOptions options, TextWriter output)
    {
        var plan = PlanOf(options);
        var requests = plan.Runs;
        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        var shard = options.Shard is null ? string.Empty : $" (shard {options.Shard})";
        if (requests.Count == 0)
        {
            output.WriteLine($"vmalock explore{shard}: {(options.Shard is null ? "no runs left" : "no runs fall in this shard")}");
            WriteMemory(output, plan.Memory, plan.Skipped);
            WriteReports(options, plan, [], [], new Dictionary<RunResult, string>(), new Dictionary<RunResult, StateCoverage>(), _ => throw new InvalidOperationException("no trace to replay"));
            return ExitCodes.Clean;
        }

        var engines = Math.Max(1, Math.Min(options.Parallel ?? SideBySide.DefaultEngines, requests.Count));
        output.WriteLine($"vmalock explore{shard}: {requests.Count} run(s), {engines} engine(s) side by side");
        foreach (var line in StrategyLines(requests))
        {
            output.WriteLine(line);
        }

        WriteMemory(output, plan.Memory, plan.Skipped);
        output.WriteLine(
            $"Coyote {TraceFile.RunningCoyoteVersion}; rewritten: {string.Join(", ", RewriteCheck.ControlledAssemblies.Select(a => a.GetName().Name))}; " +
            $"invariants: {string.Join(", ", requests[0].Invariants.Select(i => i.Name))}");
        output.Flush();

        var results = ExploreProgress.RunAll(requests, engines, output);

        var uncontrolled = results.Where(r => r.Uncontrolled.Count > 0 || r.Bug?.Invariant == Finding.Uncontrolled).ToList();
        if (uncontrolled.Count > 0)
        {
            output.Write(SummaryTable.Render([.. results.Select(r => RunSummary.From(r, null))]));
            var what = uncontrolled.SelectMany(r => r.Uncontrolled).Concat(uncontrolled.Select(r => r.Bug?.Message ?? string.Empty)).First(s => s.Length > 0);
            throw new HarnessException(ExitCodes.NotHonest, $"uncontrolled concurrency in {uncontrolled[0].Request.Label}: {what}");
        }

        var summaries = new List<RunSummary>();
        var traces = new Dictionary<RunResult, string>();
        var coverage = RunSummary.CoverageOf(results);
        foreach (var result in results)
        {
            string? trace = null;
            if (result.Bug is not null && !result.Request.Stress)
            {
                trace = Path.Combine(options.TracesDir, TraceFile.FileNameFor(result.Request));
                var minimized = Minimizer.Minimize(TraceFile.From(result), trace).Trace; // the schedule a reader gets is the shortest found
                OutputPaths.Write("--traces-dir", options.TracesDir, () => minimized.Save(trace));
                traces[result] = trace;
            }

            summaries.Add(RunSummary.From(result, trace) with { Coverage = coverage.GetValueOrDefault(result) });
        }

        // Each trace is replayed at most once, though SARIF and the printed interleaving both want it.
        var replays = new Dictionary<string, ReplayOutcome>(StringComparer.Ordinal);
        ReplayOutcome ReplayOnce(string trace) => replays.TryGetValue(trace, out var outcome) ? outcome : replays[trace] = Replayer.Replay(trace);

        // The verdict is printed before the report files are written: a write that still fails
        // (the paths were checked before the run) costs that file, not the results.
        var verdict = Report(summaries, output, showInterleaving: true, ReplayOnce);
        WriteReports(options, plan, summaries, results, traces, coverage, ReplayOnce);
        return verdict;
    }

    /// <summary>
    /// The header's lines for what each strategy explores: "strategy portfolio: 800 iterations,
    /// seed 1, 2 reader thread(s), sampled" or "strategy exhaustive: every schedule with &lt;= 1
    /// preemption, &lt;= 1 unusual choice, 1 reader thread(s), no iteration cap".
    /// </summary>
    public static IEnumerable<string> StrategyLines(IReadOnlyList<RunRequest> requests) =>
        requests.GroupBy(r => r.StrategyShown).Select(g => g.First()).Select(r => r.Stress
            ? $"stress mode (real threads, random delays, no controlled scheduler; no replayable traces): {r.Iterations} iterations, seed {r.Seed}, {r.Readers} reader thread(s)"
            : r.IsExhaustive
                ? $"strategy {r.Strategy}: every schedule with {ExhaustiveOutcome.BoundsOf(r.Preemptions, r.UnusualChoices)}{(r.Reduce ? " (sleep-set pruning)" : " (no pruning)")}, {r.Readers} reader thread(s), {(r.Iterations == 0 ? "no iteration cap" : $"at most {r.Iterations} schedules")}"
                : $"strategy {r.Strategy}: {r.Iterations} iterations, seed {r.Seed}, {r.Readers} reader thread(s), sampled");

    /// <summary>The header's memory lines: "memory models: sc, lkmm", then each known bug left out.</summary>
    public static void WriteMemory(TextWriter output, IReadOnlyList<string> models, IEnumerable<string> skipped)
    {
        output.WriteLine($"memory model{(models.Count > 1 ? "s" : string.Empty)}: {string.Join(", ", models)}");
        foreach (var line in skipped)
        {
            output.WriteLine(line);
        }
    }

    /// <summary>Writes the --json, --junit and --sarif files that were asked for.</summary>
    private static void WriteReports(
        ExploreOptions options,
        ExplorePlan plan,
        IReadOnlyList<RunSummary> summaries,
        IReadOnlyList<RunResult> results,
        IReadOnlyDictionary<RunResult, string> traces,
        IReadOnlyDictionary<RunResult, StateCoverage> coverage,
        Func<string, ReplayOutcome> replay)
    {
        if (options.JsonPath is { } json)
        {
            OutputPaths.Write("--json", json, () => new ExploreSummary(ExploreSummary.CurrentFormat, TraceFile.RunningCoyoteVersion, options.Shard, plan.Memory, plan.Skipped, summaries).Save(json));
        }

        if (options.JunitPath is { } junit)
        {
            OutputPaths.Write("--junit", junit, () => JunitReport.Write(junit, results, traces, plan.Memory, coverage));
        }

        if (options.SarifPath is { } sarif)
        {
            OutputPaths.Write("--sarif", sarif, () => SarifReport.Write(sarif, results, traces, replay, plan.Memory, plan.Skipped, coverage));
        }
    }

    /// <summary>
    /// Prints the table, each bug with its trace and replay command, and the verdict; returns the
    /// exit code. With <paramref name="showInterleaving"/>, the first bug's (minimised) schedule is
    /// replayed (with <paramref name="replay"/>) and printed as replay prints it.
    /// </summary>
    public static int Report(IReadOnlyList<RunSummary> runs, TextWriter output, bool showInterleaving = false, Func<string, ReplayOutcome>? replay = null)
    {
        replay ??= Replayer.Replay;
        output.Write(SummaryTable.Render(runs));
        var buggy = runs.Where(r => r.Bug is not null).ToList();
        foreach (var run in buggy)
        {
            if (showInterleaving && run == buggy[0] && run.Bug!.Trace is { } first)
            {
                output.WriteLine();
                output.Write(ReplayCommand.Text(first, replay(first)));
            }

            output.WriteLine();
            output.WriteLine($"BUG in {run.Label}: {run.Bug!.Invariant}");
            output.WriteLine($"  {run.Bug.Message}");
            if (run.Bug.Trace is not null)
            {
                output.WriteLine($"  trace:  {run.Bug.Trace}");
                output.WriteLine($"  replay: {ReplayCommand.CommandLineFor(run.Bug.Trace)}");
            }
            else if (run.Strategy == BenchCommand.Stress)
            {
                output.WriteLine("  stress mode: real threads leave no replayable schedule; explore the same mutant systematically for a trace");
            }
        }

        var iterations = runs.Sum(r => r.IterationsRun);
        output.WriteLine();
        output.WriteLine(buggy.Count == 0
            ? $"no invariant violated: {iterations} iterations over {runs.Count} run(s); uncontrolled invocations: {runs.Sum(r => r.UncontrolledInvocations.Count)}"
            : $"{buggy.Count} of {runs.Count} run(s) found a bug ({iterations} iterations)");
        return buggy.Count == 0 ? ExitCodes.Clean : ExitCodes.BugFound;
    }

    /// <summary>Turns the options into engine runs, validating every option, path and name (exit 2 on a bad one).</summary>
    public static IReadOnlyList<RunRequest> Plan(ExploreOptions options) => PlanOf(options).Runs;

    /// <summary>
    /// The runs, the memory models they are under, and the known bugs left out (a generation's
    /// known bug under a model is run only when --generation names it).
    /// </summary>
    public static ExplorePlan PlanOf(ExploreOptions options)
    {
        Check("--readers", RunChecks.Readers(options.Readers));
        Check("--iterations", RunChecks.Iterations(options.Iterations));
        Check("--max-steps", RunChecks.MaxSteps(options.MaxSteps));
        if (options.Parallel is < 1 or > 64)
        {
            throw new HarnessException(ExitCodes.BadInput, $"--parallel must be 1..64, not {options.Parallel}");
        }

        if (options.TimeoutSeconds < 0)
        {
            throw new HarnessException(ExitCodes.BadInput, "--timeout must not be negative");
        }

        foreach (var (option, path) in new[] { ("--json", options.JsonPath), ("--junit", options.JunitPath), ("--sarif", options.SarifPath) })
        {
            OutputPaths.CheckFile(option, path);
        }

        OutputPaths.CheckDirectory("--traces-dir", options.TracesDir);

        if (options.Mode is not (ExploreOptions.Systematic or ExploreOptions.Stress))
        {
            throw new HarnessException(ExitCodes.BadInput, $"--mode must be systematic or stress, not '{options.Mode}'");
        }

        foreach (var name in options.Strategies)
        {
            RunChecks.Strategy(name, RunChecks.BadInput);
        }

        if (options.Preemptions is < 0 or > RunChecks.MaxBound)
        {
            throw RunChecks.BadInput($"--preemptions must be 0..{RunChecks.MaxBound}, not {options.Preemptions}");
        }

        if (options.Choices is < 0 or > RunChecks.MaxBound)
        {
            throw RunChecks.BadInput($"--choices must be 0..{RunChecks.MaxBound}, not {options.Choices}");
        }

        // The exhaustive strategy's options on a run that has none, or on real threads, would be silently ignored.
        var exhaustiveAsked = options.Strategies.Contains(Strategies.Exhaustive);
        if (!exhaustiveAsked && new[] { (options.Preemptions is not null, "--preemptions"), (options.Choices is not null, "--choices"), (options.NoReduction, "--no-reduction") }
                .FirstOrDefault(o => o.Item1) is { Item2: { } unused })
        {
            throw RunChecks.BadInput($"{unused} applies to --strategy exhaustive, which this explore does not run");
        }

        if (exhaustiveAsked && !options.StrategiesDefaulted && options.Mode == ExploreOptions.Stress)
        {
            throw RunChecks.BadInput("--strategy exhaustive needs the controlled scheduler (--mode systematic): stress mode runs real threads");
        }
        var stress = options.Mode == ExploreOptions.Stress;
        var asked = options.Memory is { Count: > 0 } ? MemoryModels(options.Memory, []) : null;
        if (stress && asked?.FirstOrDefault(m => m != RunRequest.ScMemory) is { } weak)
        {
            throw RunChecks.BadInput($"--memory {weak} needs the controlled scheduler (--mode systematic): stress mode runs real threads under locked sequential consistency");
        }

        if (options.Mutant is not null && options.Patch is not null)
        {
            throw RunChecks.BadInput($"--patch and --mutant cannot be given together: a run explores the correct port, one mutant, or one proposal");
        }

        var mutant = options.Mutant is null ? null : RunChecks.Mutant(options.Mutant, RunChecks.BadInput);
        var patch = options.Patch is null ? null : RunChecks.Patch(options.Patch, RunChecks.BadInput);
        var scenarios = options.Scenarios.Count > 0
            ? options.Scenarios.Select(n => RunChecks.Scenario(n, RunChecks.BadInput, patch)).Distinct().ToList()
            : mutant is not null ? [ScenarioRegistry.Find(mutant.Scenario)!] : patch is not null ? [.. patch.Scenarios] : [.. ScenarioRegistry.All];

        var generations = options.Generation is not null
            ? [RunChecks.Generation(options.Generation, RunChecks.BadInput)]
            : Generations.All.ToList();
        if (mutant is not null)
        {
            generations = generations.Where(mutant.AppliesTo).ToList();
            if (generations.Count == 0)
            {
                throw RunChecks.BadInput(options.Generation is null
                    ? $"mutant '{mutant.Name}' exists in no generation"
                    : RunChecks.MutantIn(mutant, Generations.Find(options.Generation)!)!);
            }
        }

        if (patch is not null && options.Generation is not null && RunChecks.PatchIn(patch, generations[0]) is { } notFor)
        {
            throw RunChecks.BadInput(notFor);
        }

        generations = patch is null ? generations : [.. generations.Where(patch.AppliesTo)];

        var (shardIndex, shardCount) = ParseShard(options.Shard);
        var invariants = options.Invariants.Count > 0
            ? options.Invariants.Select(n => RunChecks.Invariant(n, RunChecks.BadInput)).Distinct().ToList()
            : [.. InvariantRegistry.All];

        // A generation's known bug under a model is left out, unless --memory names the model and
        // --generation the generation. Without --memory a generation left with no model runs under
        // sc, a mutant under the model it is written for (Mutant.Memory: what its budget and
        // saved trace were found under), and a proposal's scenario under the model its verdict is
        // for, if it names one (ProposalScenario.Memory).
        if (options.Generation is not null && scenarios.FirstOrDefault(s => !s.RunsOn(generations[0])) is { } absent && options.Scenarios.Count > 0)
        {
            throw RunChecks.BadInput(RunChecks.ScenarioIn(absent, generations[0])!);
        }

        var pairs = (from scenario in scenarios
                     from generation in generations
                     where scenario.RunsOn(generation)
                     from memory in asked ?? (stress ? [RunRequest.ScMemory] : mutant is not null ? [mutant.Memory] : scenario is ProposalScenario { Memory: { } judged } ? [judged] : RunRequest.DefaultMemory.Union(RunRequest.DefaultMemoryOf(generation)))
                     let named = asked is not null && options.Generation is not null
                     select (Scenario: scenario, Generation: generation, Memory: memory, Named: named, Known: named ? null : KnownBugs.Of(generation, memory))).ToList();
        // A known finding of one invariant leaves that invariant out of its scenarios' runs, on the
        // same terms, and when --invariant names none; a mutant's run is judged by everything,
        // since what it breaks is the point.
        var runs = (from p in pairs
                    where p.Known is null
                    let notJudged = p.Named || mutant is not null || options.Invariants.Count > 0 ? [] : KnownBugs.NotJudged(p.Scenario.Name, p.Generation, p.Memory)
                    select (Pair: p, NotJudged: notJudged)).ToList();
        // Each pair is a run per strategy (stress mode: one).
        var perPair = stress ? 1 : options.Strategies.Distinct().Count();
        var skipped = pairs.Where(p => p.Known is not null).GroupBy(p => p.Known!).Select(g => g.Key.Skipped(g.Count() * perPair))
            .Concat(runs.SelectMany(r => r.NotJudged).GroupBy(b => b).OrderBy(g => KnownBugs.All.ToList().IndexOf(g.Key)).Select(g => g.Key.Skipped(g.Count() * perPair))).ToList();
        // Stress mode has no strategy: one run per pair. An exhaustive run has no iteration cap
        // unless it is the only strategy and --iterations is given, one fault thread unless
        // --readers is given, and K = 2 (1 in the main job) unless --preemptions is given; it runs
        // under the same memory models as the sampling runs.
        var strategies = stress ? [options.Strategies[0]] : options.Strategies.Distinct().ToList();
        var onlyExhaustive = strategies.All(s => s == Strategies.Exhaustive);
        var plan = (from strategy in strategies
                   let exhaustive = strategy == Strategies.Exhaustive && !stress
                   from r in runs
                   select new RunRequest(
                       r.Pair.Scenario,
                       r.Pair.Generation,
                       mutant,
                       strategy,
                       exhaustive ? (onlyExhaustive ? options.Iterations ?? 0 : 0) : options.Iterations ?? ExploreOptions.DefaultIterations,
                       options.MaxSteps,
                       options.Seed,
                       options.TimeoutSeconds,
                       exhaustive && !options.ReadersGiven ? ExploreOptions.ExhaustiveReaders : options.Readers,
                       KnownBugs.Judging(invariants, r.NotJudged))
                   {
                       Stress = stress,
                       Memory = r.Pair.Memory,
                       Preemptions = options.Preemptions ?? (options.MainJob ? ExploreOptions.MainJobPreemptions : RunRequest.DefaultPreemptions),
                       UnusualChoices = options.Choices ?? RunRequest.DefaultUnusualChoices,
                       Reduce = !options.NoReduction,
                       Patch = patch,
                   }).ToList();

        // The models of the whole plan (the main job's exhaustive runs add sc).
        var models = RunChecks.MemoryModels.Where(m => plan.Any(r => r.Memory == m)).DefaultIfEmpty(asked?[0] ?? RunRequest.ScMemory).ToList();

        // A shard takes every shardCount-th sampling run of the plan, which is in a fixed order:
        // the shards of one command line are disjoint and together are the whole plan.
        // An exhaustive run is in every shard, each exploring its slice of the run's schedule tree
        // (merge adds the slices up, and says complete only when every slice is).
        var sampled = 0;
        var shardRuns = plan
            .Where(r => r.IsExhaustive || sampled++ % shardCount == shardIndex)
            .Select(r => r.IsExhaustive && shardCount > 1 ? r with { TreeShard = (shardIndex, shardCount) } : r)
            .ToList();
        return new ExplorePlan(shardRuns, models, skipped);
    }

    /// <summary>The models of a repeatable --memory, each checked, in the order given (duplicates once); none given: <paramref name="defaults"/>.</summary>
    public static IReadOnlyList<string> MemoryModels(IReadOnlyList<string>? asked, IReadOnlyList<string> defaults) =>
        asked is { Count: > 0 } ? [.. asked.Select(m => RunChecks.Memory(m, RunChecks.BadInput)).Distinct()] : defaults;

    /// <summary>--shard I/N (1 &lt;= I &lt;= N): the zero-based index and the count; no shard is 0/1.</summary>
    private static (int Index, int Count) ParseShard(string? shard)
    {
        if (shard is null)
        {
            return (0, 1);
        }

        var (slice, problem) = RunChecks.Slice(shard);
        return problem is null ? slice : throw new HarnessException(ExitCodes.BadInput, $"--shard {problem}");
    }

    /// <summary>An option's problem (from <see cref="RunChecks"/>) as bad input naming the option.</summary>
    private static void Check(string option, string? problem)
    {
        if (problem is not null)
        {
            throw RunChecks.BadInput($"{option} {problem}");
        }
    }
}
