using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// How fast one strategy finds one mutant under one memory model, over the seeds;
/// <paramref name="Expected"/>: whether the mutant is expected to be caught under that model
/// (<see cref="Mutant.CaughtUnder"/>).
/// </summary>
public sealed record BenchDetection(
    string Mutant, string Scenario, string Generation, string Strategy, string Memory, bool Expected, int Seeds, int Found,
    long? MedianIterations, long? WorstIterations, double? MedianSeconds, double? WorstSeconds, IReadOnlyList<string> CaughtBy);

/// <summary>The control: the correct port on a mutant's scenario and generation under one model, with the same budget.</summary>
public sealed record BenchControl(
    string Scenario, string Generation, string Strategy, string Memory, long Iterations, double Seconds, int Reports, string? FirstReport);

/// <summary>The speed of the correct port on one scenario and generation under one model: its systematic controls together.</summary>
public sealed record BenchSpeed(string Scenario, string Generation, string Memory, long Iterations, double Seconds, double IterationsPerSecond);

/// <summary>
/// The exhaustive strategy on one mutant under one model: the smallest preemption bound K (of
/// <see cref="BenchCommand.ExhaustiveBounds"/>) at which it reports the mutant, the schedules it
/// ran to that report (the buggy one included) and the time; null when no bound found it within
/// the budget (each bound's run stops after the budget's schedules).
/// </summary>
public sealed record BenchExhaustive(
    string Mutant, string Scenario, string Generation, string Memory, bool Expected, int? FoundAtBound, long? SchedulesToReport, double? Seconds, string? CaughtBy);

/// <summary>
/// A sampling strategy's coverage on the correct port: of the abstract states of the complete
/// exhaustive run of the same scenario and generation (under sc, K=1, one fault thread), how many
/// its control run reached, and how many beyond them.
/// </summary>
public sealed record BenchCoverage(string Scenario, string Generation, string Memory, string Strategy, int Reached, int Of, int Beyond);

/// <summary>What vmalock bench measured, and on what.</summary>
public sealed record BenchReport(
    string Format, string Command, string Machine, string CoyoteVersion, uint Budget, int Seeds, IReadOnlyList<string> Memory, double TotalSeconds,
    IReadOnlyList<BenchDetection> Detections, IReadOnlyList<BenchControl> Controls, IReadOnlyList<BenchSpeed> Speed,
    IReadOnlyList<BenchExhaustive> Exhaustive, IReadOnlyList<BenchCoverage> Coverage);

/// <summary>
/// vmalock bench: for every mutant × strategy over K seeds, the detection rate and the
/// iterations and wall time to the first detection (median and worst); and, as the control, the
/// correct port on the same scenario and generation with the same budget, which must report
/// nothing. Prints a table and optionally writes JSON. A measurement, not a test: the tests only
/// check each mutant is caught within its stated budget.
/// </summary>
public static class BenchCommand
{
    /// <summary>The strategies measured (qlearning is left out: its runs are not reproducible from the seed).</summary>
    public static readonly string[] StrategiesMeasured = ["random", "pct", "probabilistic", "delay-bounding", "portfolio"];

    /// <summary>The preemption bounds the exhaustive strategy is measured at on each mutant, smallest first.</summary>
    public static readonly int[] ExhaustiveBounds = [0, 1, 2];

    /// <summary>The baseline's row name: explore --mode stress (real threads, random delays).</summary>
    public const string Stress = "stress";

    public static int Run(bool quick, int? seeds, uint? budget, string? jsonPath, int? parallel, TextWriter output, IReadOnlyList<string>? memory = null)
    {
        var k = seeds ?? (quick ? 1 : 5);
        var iterations = budget ?? (quick ? 300u : 2000u);
        if (k is < 1 or > 100)
        {
            throw new HarnessException(ExitCodes.BadInput, $"--seeds must be 1..100, not {k}");
        }

        if (iterations is 0)
        {
            throw new HarnessException(ExitCodes.BadInput, "--budget must be at least 1");
        }

        if (parallel is < 1 or > 64)
        {
            throw new HarnessException(ExitCodes.BadInput, $"--parallel must be 1..64, not {parallel}");
        }

        var models = ExploreCommand.MemoryModels(memory, [RunRequest.ScMemory]);
        OutputPaths.CheckFile("--json", jsonPath);
        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        var command = $"dotnet run --project Harness -- bench{(quick ? " --quick" : string.Empty)} --seeds {k} --budget {iterations}" +
            (models.SequenceEqual([RunRequest.ScMemory]) ? string.Empty : string.Concat(models.Select(m => $" --memory {m}")));
        var machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
        output.WriteLine($"vmalock bench: {MutantRegistry.All.Count} mutants x ({StrategiesMeasured.Length} strategies + stress) x {k} seed(s), budget {iterations} iterations per run; {machine}");
        ExploreCommand.WriteMemory(output, models, []);
        output.Flush();

        // The models are the innermost loop: each mutant's runs under every model are next to each
        // other in the queue, so the engines run them side by side and machine noise hits them alike.
        // Stress testing is the sc baseline: it runs real threads under locked sequential consistency,
        // and is left out for a mutant not expected under sc.
        var mutantRuns = (
            from mutant in MutantRegistry.All
            from strategy in StrategiesMeasured.Append(Stress)
            from seed in Enumerable.Range(1, k)
            from model in models
            where strategy != Stress || (model == RunRequest.ScMemory && mutant.CaughtUnder.Contains(RunRequest.ScMemory))
            let generation = GenerationFor(mutant, models)

            // A mutant that exists only where the model finds the generation's own known bug
            // (narrow-seq: 6.4 under lkmm) is not measured under it: "-" in its columns.
            where KnownBugs.Of(generation, model) is null
            select Request(mutant.Scenario, generation, mutant, strategy, (uint)seed, iterations, model)).ToList();
        var controlRuns = MutantRegistry.All
            .Select(m => (m.Scenario, Generation: GenerationFor(m, models)))
            .Distinct()
            .SelectMany(p => StrategiesMeasured.Append(Stress).SelectMany(strategy => models
                .Where(model => (strategy != Stress || model == RunRequest.ScMemory) && KnownBugs.Of(p.Generation, model) is null)
                .Select(model => Request(p.Scenario, p.Generation, null, strategy, 1, iterations, model))))
            .ToList();
        // The exhaustive strategy: each mutant at each bound (one fault thread, at most the budget's
        // schedules), and as coverage denominators the correct port's complete K=1 run under sc.
        var exhaustiveRuns = (
            from mutant in MutantRegistry.All
            from model in models
            let generation = GenerationFor(mutant, models)
            where KnownBugs.Of(generation, model) is null
            from bound in ExhaustiveBounds
            select Request(mutant.Scenario, generation, mutant, Strategies.Exhaustive, 1, iterations, model) with
            {
                Readers = ExploreOptions.ExhaustiveReaders,
                Preemptions = bound,
            }).ToList();
        var denominators = MutantRegistry.All
            .Select(m => (m.Scenario, Generation: GenerationFor(m, models)))
            .Distinct()
            .Select(p => Request(p.Scenario, p.Generation, null, Strategies.Exhaustive, 1, 0, RunRequest.ScMemory) with
            {
                Readers = ExploreOptions.ExhaustiveReaders,
                Preemptions = ExploreOptions.MainJobPreemptions,
            })
            .ToList();
        var requests = mutantRuns.Concat(controlRuns).Concat(exhaustiveRuns).Concat(denominators).ToList();

        var clock = Stopwatch.StartNew();
        var results = ExploreProgress.RunAll(requests, Math.Max(1, parallel ?? SideBySide.DefaultEngines), output);
        clock.Stop();

        var detections = results.Take(mutantRuns.Count)
            .GroupBy(r => (r.Request.MutantName, r.Request.StrategyShown, r.Request.Memory))
            .Select(Detection)
            .ToList();
        var controlResults = results.Skip(mutantRuns.Count).Take(controlRuns.Count).ToList();
        var exhaustive = results.Skip(mutantRuns.Count + controlRuns.Count).Take(exhaustiveRuns.Count)
            .GroupBy(r => (r.Request.MutantName, r.Request.Memory))
            .Select(g =>
            {
                var first = g.First().Request;
                var found = g.Where(r => r.Bug is not null).MinBy(r => r.Request.Preemptions);
                return new BenchExhaustive(
                    g.Key.MutantName, first.Scenario.Name, first.Generation.Name, g.Key.Memory, first.Mutant!.CaughtUnder.Contains(g.Key.Memory),
                    found?.Request.Preemptions, found?.Exhaustive?.Schedules, found is null ? null : Math.Round(found.Elapsed.TotalSeconds, 3), found?.Bug!.Invariant);
            })
            .ToList();
        var denominatorResults = results.Skip(mutantRuns.Count + controlRuns.Count + exhaustiveRuns.Count).ToList();
        var coverage = RunSummary.CoverageOf([.. controlResults.Where(r => !r.Request.Stress), .. denominatorResults])
            .Select(c => new BenchCoverage(c.Key.Request.Scenario.Name, c.Key.Request.Generation.Name, c.Key.Request.Memory, c.Key.Request.Strategy, c.Value.Reached, c.Value.Of, c.Value.Beyond))
            .ToList();
        var controls = controlResults
            .Select(r => new BenchControl(r.Request.Scenario.Name, r.Request.Generation.Name, r.Request.StrategyShown, r.Request.Memory, r.IterationsRun,
                Math.Round(r.Elapsed.TotalSeconds, 2), r.Bug is null ? 0 : 1, r.Bug is null ? null : $"{r.Bug.Invariant}: {r.Bug.Message}"))
            .ToList();
        var speed = controlResults
            .Where(r => !r.Request.Stress)
            .GroupBy(r => (r.Request.Scenario.Name, r.Request.Generation.Name, r.Request.Memory))
            .Select(g => new BenchSpeed(g.Key.Item1, g.Key.Item2, g.Key.Memory, g.Sum(r => r.IterationsRun), Math.Round(g.Sum(r => r.Elapsed.TotalSeconds), 2),
                Math.Round(g.Sum(r => r.IterationsRun) / Math.Max(g.Sum(r => r.Elapsed.TotalSeconds), 0.001), 1)))
            .ToList();
        var report = new BenchReport("vmalock-bench/3", command, machine, Traces.TraceFile.RunningCoyoteVersion, iterations, k, models,
            Math.Round(clock.Elapsed.TotalSeconds, 1), detections, controls, speed, exhaustive, coverage);

        output.Write(Render(report));
        if (jsonPath is not null)
        {
            OutputPaths.Write("--json", jsonPath, () => File.WriteAllText(
                jsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }) + "\n"));
            output.WriteLine($"wrote {jsonPath}");
        }

        return controls.Any(c => c.Reports > 0) ? ExitCodes.BugFound : ExitCodes.Clean;
    }

    /// <summary>
    /// The table: one row per mutant × strategy (with several memory models, a group of columns
    /// per model), then the comparison with stress testing, the speed of each model on the same
    /// scenarios, and the controls' verdict.
    /// </summary>
    public static string Render(BenchReport report)
    {
        var text = new StringBuilder();
        var byModel = report.Memory.Count > 1;
        string[] perModel = byModel ? ["found", "median it", "median time"] : ["found", "median it", "worst it", "median time", "worst time"];
        var rows = report.Detections.GroupBy(d => (d.Mutant, d.Strategy)).Select(g =>
        {
            var cells = new List<string> { g.Key.Mutant, g.First().Generation, g.Key.Strategy };
            foreach (var model in report.Memory)
            {
                var d = g.FirstOrDefault(d => d.Memory == model);
                cells.AddRange(d is null ? perModel.Select(_ => "-") : Cells(d, byModel));
            }

            var caught = g.SelectMany(d => d.CaughtBy).Distinct().Order(StringComparer.Ordinal).ToList();
            cells.Add(caught.Count > 0 ? string.Join(", ", caught)
                : g.Any(d => d.Expected) ? $"not found in {report.Budget} iterations"
                : $"clean under {string.Join(", ", g.Select(d => d.Memory))}, as expected");
            return cells.ToArray();
        }).ToList();
        text.AppendLine();
        text.Append(SummaryTable.Columns(
            ["mutant", "gen", "strategy", .. report.Memory.SelectMany(m => perModel.Select(c => byModel ? $"{m} {c}" : c)), "caught by"], rows));

        text.AppendLine();
        text.AppendLine("found: seeds whose run reported the bug within the budget; it and time: to the first report, over those seeds.");
        if (report.Detections.Any(d => !d.Expected))
        {
            text.AppendLine($"(as expected) / (unexpected): the mutant is not expected to be caught under that model (an ordering mutant under sc).");
        }

        text.AppendLine();
        text.Append(ExhaustiveTable(report));
        text.AppendLine();
        text.Append(CoverageTable(report));
        text.AppendLine();
        text.Append(Comparison(report));
        if (byModel)
        {
            text.AppendLine();
            text.Append(Speeds(report));
        }

        var dirty = report.Controls.Where(c => c.Reports > 0).ToList();
        text.AppendLine(dirty.Count == 0
            ? $"control: the correct port on the same {report.Controls.Select(c => (c.Scenario, c.Generation)).Distinct().Count()} scenario/generation pairs, " +
              $"{report.Controls.Count} runs, {report.Controls.Sum(c => c.Iterations)} iterations: no report"
            : $"CONTROL FAILED: the correct port reported {string.Join("; ", dirty.Select(c => $"{c.Scenario} {c.Generation} {c.Strategy} {c.Memory}: {c.FirstReport}"))}");
        text.AppendLine($"{report.TotalSeconds} s in all; {report.Command}");
        return text.ToString();
    }

    /// <summary>Per mutant and model: the smallest K at which the exhaustive strategy reports it, the schedules to the report, the time.</summary>
    private static string ExhaustiveTable(BenchReport report)
    {
        var rows = report.Exhaustive.GroupBy(e => e.Mutant).Select(g => (string[])
        [
            g.Key,
            g.First().Generation,
            .. report.Memory.Select(m => g.FirstOrDefault(e => e.Memory == m) is not { } e ? "-"
                : e.FoundAtBound is { } bound ? $"K={bound}, {e.SchedulesToReport} schedules, {e.Seconds:F2} s{(e.Expected ? string.Empty : " (unexpected)")}"
                : e.Expected ? $"not found with K<={ExhaustiveBounds[^1]}" : "clean, as expected"),
            string.Join(", ", g.Select(e => e.CaughtBy).OfType<string>().Distinct().Order(StringComparer.Ordinal)),
        ]).ToList();
        var text = new StringBuilder();
        text.Append(SummaryTable.Columns(
            ["mutant", "gen", .. report.Memory.Select(m => $"exhaustive under {m} (first K, schedules to the report, time)"), "caught by"], rows));
        text.AppendLine(
            $"exhaustive: one fault thread, at most 1 unusual choice outcome, K = {string.Join(", ", ExhaustiveBounds)} in turn, each bound's run capped at {report.Budget} schedules; " +
            "the schedules to the report include the buggy one.");
        return text.ToString();
    }

    /// <summary>Per scenario, generation and model: each sampling strategy's share of the complete exhaustive run's abstract states.</summary>
    private static string CoverageTable(BenchReport report)
    {
        var strategies = report.Coverage.Select(c => c.Strategy).Distinct().ToList();
        var rows = report.Coverage.GroupBy(c => (c.Scenario, c.Generation, c.Memory)).Select(g => (string[])
        [
            g.Key.Scenario,
            g.Key.Generation,
            g.Key.Memory,
            .. strategies.Select(s => g.FirstOrDefault(c => c.Strategy == s) is { } c ? $"{c.Reached}/{c.Of}{(c.Beyond > 0 ? $" (+{c.Beyond})" : string.Empty)}" : "-"),
        ]).ToList();
        var text = new StringBuilder();
        text.Append(SummaryTable.Columns(["scenario (correct port)", "gen", "memory", .. strategies], rows));
        text.AppendLine(
            $"coverage: abstract protocol states the control run reached ({report.Budget} iterations, 2 fault threads) of those of the complete exhaustive run " +
            $"(sc, K={ExploreOptions.MainJobPreemptions}, one fault thread); (+N): states beyond it.");
        return text.ToString();
    }

    /// <summary>One detection's cells: found (and whether that was expected), then the iterations and times.</summary>
    private static IEnumerable<string> Cells(BenchDetection d, bool brief)
    {
        yield return $"{d.Found}/{d.Seeds}{(d.Expected ? string.Empty : d.Found == 0 ? " (as expected)" : " (unexpected)")}";
        yield return d.MedianIterations?.ToString() ?? "-";
        if (!brief)
        {
            yield return d.WorstIterations?.ToString() ?? "-";
        }

        yield return d.MedianSeconds is { } m ? $"{m:F2} s" : "-";
        if (!brief)
        {
            yield return d.WorstSeconds is { } w ? $"{w:F2} s" : "-";
        }
    }

    /// <summary>Per mutant: the fastest systematic strategy (under each model) against stress testing, and their ratio of median times.</summary>
    private static string Comparison(BenchReport report)
    {
        var byModel = report.Memory.Count > 1;
        var rows = new List<string[]>();
        foreach (var mutant in report.Detections.GroupBy(d => d.Mutant))
        {
            var bests = report.Memory.Select(model => mutant
                .Where(d => d.Strategy != Stress && d.Memory == model && d.Found > 0)
                .OrderByDescending(d => d.Found).ThenBy(d => d.MedianSeconds).FirstOrDefault()).ToList();
            var best = bests.OfType<BenchDetection>().OrderByDescending(d => d.Found).ThenBy(d => d.MedianSeconds).FirstOrDefault();
            var stress = mutant.FirstOrDefault(d => d.Strategy == Stress);
            var ratio = best is null || stress is null ? "-"
                : stress.Found == 0 ? $"stress: not found in {report.Budget} iterations"
                : $"{stress.MedianSeconds!.Value / Math.Max(best.MedianSeconds!.Value, 0.001):F1}x";
            rows.Add(
            [
                mutant.Key,
                .. bests.Select((b, i) => b is not null ? $"{b.Strategy} {b.Found}/{b.Seeds}, {b.MedianSeconds:F2} s"
                    : mutant.Any(d => d.Memory == report.Memory[i] && !d.Expected) ? "clean, as expected"
                    : $"not found in {report.Budget} iterations"),
                stress is null ? "-" : stress.Found == 0 ? $"0/{stress.Seeds}" : $"{stress.Found}/{stress.Seeds}, {stress.MedianSeconds:F2} s",
                ratio,
            ]);
        }

        return SummaryTable.Columns(
            ["mutant", .. report.Memory.Select(m => byModel ? $"best under {m} (found, median time)" : "best systematic (found, median time)"), "stress (found, median time)", "stress time / systematic time"],
            rows);
    }

    /// <summary>The correct port's iterations/s under each model on the same scenario and generation (its systematic controls, interleaved).</summary>
    private static string Speeds(BenchReport report)
    {
        var first = report.Memory[0];
        var rows = report.Speed.GroupBy(s => (s.Scenario, s.Generation)).Select(g => (string[])
        [
            g.Key.Scenario,
            g.Key.Generation,
            .. report.Memory.Select(m => g.FirstOrDefault(s => s.Memory == m)?.IterationsPerSecond.ToString("F0") ?? "-"),
            .. report.Memory.Skip(1).Select(m => g.FirstOrDefault(s => s.Memory == m) is { } other && g.FirstOrDefault(s => s.Memory == first) is { IterationsPerSecond: > 0 } baseline
                ? $"{other.IterationsPerSecond / baseline.IterationsPerSecond:F2}x" : "-"),
        ]).ToList();
        var text = new StringBuilder();
        text.Append(SummaryTable.Columns(
            ["scenario (correct port)", "gen", .. report.Memory.Select(m => $"{m} it/s"), .. report.Memory.Skip(1).Select(m => $"{m} / {first}")], rows));
        text.AppendLine("it/s: the systematic controls' iterations over their time, each model's runs next to the other's in the queue.");
        text.AppendLine();
        return text.ToString();
    }

    private static BenchDetection Detection(IGrouping<(string Mutant, string Strategy, string Memory), RunResult> runs)
    {
        var first = runs.First().Request;
        var found = runs.Where(r => r.Bug is not null).ToList();
        var iterations = found.Select(r => r.IterationsRun).Order().ToList();
        var seconds = found.Select(r => r.Elapsed.TotalSeconds).Order().ToList();
        return new BenchDetection(
            runs.Key.Mutant, first.Scenario.Name, first.Generation.Name, runs.Key.Strategy, runs.Key.Memory, first.Mutant!.CaughtUnder.Contains(runs.Key.Memory),
            runs.Count(), found.Count,
            found.Count == 0 ? null : iterations[(iterations.Count - 1) / 2],
            found.Count == 0 ? null : iterations[^1],
            found.Count == 0 ? null : Math.Round(seconds[(seconds.Count - 1) / 2], 3),
            found.Count == 0 ? null : Math.Round(seconds[^1], 3),
            [.. found.Select(r => r.Bug!.Invariant).Distinct().Order(StringComparer.Ordinal)]);
    }

    /// <summary>
    /// The generation a mutant is measured on: the first it exists in that has no known bug under
    /// any of the models measured (6.5 for the rw_semaphore mutants under lkmm: 6.4's own race
    /// would otherwise be what is found, and the control would fail), so every model measures it
    /// on the same code.
    /// </summary>
    private static GenerationInfo GenerationFor(Mutant mutant, IReadOnlyList<string> models) =>
        Generations.All.Where(mutant.AppliesTo).FirstOrDefault(g => models.All(m => KnownBugs.Of(g, m) is null))
        ?? Generations.All.First(mutant.AppliesTo);

    /// <summary>
    /// A measured run, judged by every invariant but those of the kernel's known findings in that
    /// scenario, generation and model (<see cref="KnownBugs.NotJudged"/>), as the main job judges it:
    /// the kernel's own finding is neither the mutant's detection nor a failed control.
    /// </summary>
    private static RunRequest Request(string scenario, GenerationInfo generation, Mutant? mutant, string strategy, uint seed, uint iterations, string memory) =>
        new(ScenarioRegistry.Find(scenario)!, generation, mutant, strategy == Stress ? ExploreOptions.DefaultStrategy : strategy, iterations,
            RunRequest.DefaultMaxSteps, seed, 0, RunRequest.DefaultReaders,
            KnownBugs.JudgingAsTheMainJob(InvariantRegistry.All, scenario, generation, memory))
        {
            Stress = strategy == Stress,
            Memory = memory,
        };
}
