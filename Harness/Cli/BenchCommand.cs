using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Cli;

/// <summary>How fast one strategy finds one mutant, over the seeds.</summary>
public sealed record BenchDetection(
    string Mutant, string Scenario, string Generation, string Strategy, int Seeds, int Found,
    long? MedianIterations, long? WorstIterations, double? MedianSeconds, double? WorstSeconds, IReadOnlyList<string> CaughtBy);

/// <summary>The control: the correct port on a mutant's scenario and generation, with the same budget.</summary>
public sealed record BenchControl(string Scenario, string Generation, string Strategy, long Iterations, double Seconds, int Reports, string? FirstReport);

/// <summary>What vmalock bench measured, and on what.</summary>
public sealed record BenchReport(
    string Format, string Command, string Machine, string CoyoteVersion, uint Budget, int Seeds, double TotalSeconds,
    IReadOnlyList<BenchDetection> Detections, IReadOnlyList<BenchControl> Controls);

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

    /// <summary>The baseline's row name: explore --mode stress (real threads, random delays).</summary>
    public const string Stress = "stress";

    public static int Run(bool quick, int? seeds, uint? budget, string? jsonPath, int? parallel, TextWriter output)
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

        OutputPaths.CheckFile("--json", jsonPath);
        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        var command = $"dotnet run --project Harness -- bench{(quick ? " --quick" : string.Empty)} --seeds {k} --budget {iterations}";
        var machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
        output.WriteLine($"vmalock bench: {MutantRegistry.All.Count} mutants x ({StrategiesMeasured.Length} strategies + stress) x {k} seed(s), budget {iterations} iterations per run; {machine}");
        output.Flush();

        var mutantRuns = (
            from mutant in MutantRegistry.All
            from strategy in StrategiesMeasured.Append(Stress)
            from seed in Enumerable.Range(1, k)
            select Request(mutant.Scenario, FirstGeneration(mutant), mutant, strategy, (uint)seed, iterations)).ToList();
        var controlRuns = MutantRegistry.All
            .Select(m => (m.Scenario, Generation: FirstGeneration(m)))
            .Distinct()
            .SelectMany(p => StrategiesMeasured.Append(Stress).Select(strategy => Request(p.Scenario, p.Generation, null, strategy, 1, iterations)))
            .ToList();
        var requests = mutantRuns.Concat(controlRuns).ToList();

        var clock = Stopwatch.StartNew();
        var results = ExploreProgress.RunAll(requests, Math.Max(1, parallel ?? Environment.ProcessorCount), output);
        clock.Stop();

        var detections = results.Take(mutantRuns.Count)
            .GroupBy(r => (r.Request.MutantName, r.Request.StrategyShown))
            .Select(Detection)
            .ToList();
        var controls = results.Skip(mutantRuns.Count)
            .Select(r => new BenchControl(r.Request.Scenario.Name, r.Request.Generation.Name, r.Request.StrategyShown, r.IterationsRun,
                Math.Round(r.Elapsed.TotalSeconds, 2), r.Bug is null ? 0 : 1, r.Bug is null ? null : $"{r.Bug.Invariant}: {r.Bug.Message}"))
            .ToList();
        var report = new BenchReport("vmalock-bench/1", command, machine, Traces.TraceFile.RunningCoyoteVersion, iterations, k,
            Math.Round(clock.Elapsed.TotalSeconds, 1), detections, controls);

        output.Write(Render(report));
        if (jsonPath is not null)
        {
            OutputPaths.Write("--json", jsonPath, () => File.WriteAllText(
                jsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }) + "\n"));
            output.WriteLine($"wrote {jsonPath}");
        }

        return controls.Any(c => c.Reports > 0) ? ExitCodes.BugFound : ExitCodes.Clean;
    }

    /// <summary>The table: one row per mutant × strategy, then the controls' verdict.</summary>
    public static string Render(BenchReport report)
    {
        var text = new StringBuilder();
        var rows = report.Detections.Select(d => new[]
        {
            d.Mutant, d.Generation, d.Strategy, $"{d.Found}/{d.Seeds}",
            d.MedianIterations?.ToString() ?? "-", d.WorstIterations?.ToString() ?? "-",
            d.MedianSeconds is { } m ? $"{m:F2} s" : "-", d.WorstSeconds is { } w ? $"{w:F2} s" : "-",
            d.Found == 0 ? $"not found in {report.Budget} iterations" : string.Join(", ", d.CaughtBy),
        }).ToList();
        text.AppendLine();
        text.Append(SummaryTable.Columns(["mutant", "gen", "strategy", "found", "median it", "worst it", "median time", "worst time", "caught by"], rows));

        text.AppendLine();
        text.AppendLine("found: seeds whose run reported the bug within the budget; it and time: to the first report, over those seeds.");
        text.AppendLine();
        text.Append(Comparison(report));
        var dirty = report.Controls.Where(c => c.Reports > 0).ToList();
        text.AppendLine(dirty.Count == 0
            ? $"control: the correct port on the same {report.Controls.Select(c => (c.Scenario, c.Generation)).Distinct().Count()} scenario/generation pairs, " +
              $"{report.Controls.Count} runs, {report.Controls.Sum(c => c.Iterations)} iterations: no report"
            : $"CONTROL FAILED: the correct port reported {string.Join("; ", dirty.Select(c => $"{c.Scenario} {c.Generation} {c.Strategy}: {c.FirstReport}"))}");
        text.AppendLine($"{report.TotalSeconds} s in all; {report.Command}");
        return text.ToString();
    }

    /// <summary>Per mutant: the fastest systematic strategy against stress testing, and their ratio of median times.</summary>
    private static string Comparison(BenchReport report)
    {
        var rows = new List<string[]>();
        foreach (var mutant in report.Detections.GroupBy(d => d.Mutant))
        {
            var best = mutant.Where(d => d.Strategy != Stress && d.Found > 0).OrderByDescending(d => d.Found).ThenBy(d => d.MedianSeconds).FirstOrDefault();
            var stress = mutant.FirstOrDefault(d => d.Strategy == Stress);
            var ratio = best is null || stress is null ? "-"
                : stress.Found == 0 ? $"stress: not found in {report.Budget} iterations"
                : $"{stress.MedianSeconds!.Value / Math.Max(best.MedianSeconds!.Value, 0.001):F1}x";
            rows.Add(
            [
                mutant.Key,
                best is null ? $"not found in {report.Budget} iterations" : $"{best.Strategy} {best.Found}/{best.Seeds}, {best.MedianSeconds:F2} s",
                stress is null ? "-" : stress.Found == 0 ? $"0/{stress.Seeds}" : $"{stress.Found}/{stress.Seeds}, {stress.MedianSeconds:F2} s",
                ratio,
            ]);
        }

        return SummaryTable.Columns(["mutant", "best systematic (found, median time)", "stress (found, median time)", "stress time / systematic time"], rows);
    }

    private static BenchDetection Detection(IGrouping<(string Mutant, string Strategy), RunResult> runs)
    {
        var first = runs.First().Request;
        var found = runs.Where(r => r.Bug is not null).ToList();
        var iterations = found.Select(r => r.IterationsRun).Order().ToList();
        var seconds = found.Select(r => r.Elapsed.TotalSeconds).Order().ToList();
        return new BenchDetection(
            runs.Key.Mutant, first.Scenario.Name, first.Generation.Name, runs.Key.Strategy, runs.Count(), found.Count,
            found.Count == 0 ? null : iterations[(iterations.Count - 1) / 2],
            found.Count == 0 ? null : iterations[^1],
            found.Count == 0 ? null : Math.Round(seconds[(seconds.Count - 1) / 2], 3),
            found.Count == 0 ? null : Math.Round(seconds[^1], 3),
            [.. found.Select(r => r.Bug!.Invariant).Distinct().Order(StringComparer.Ordinal)]);
    }

    private static GenerationInfo FirstGeneration(Mutant mutant) => Generations.All.First(mutant.AppliesTo);

    private static RunRequest Request(string scenario, GenerationInfo generation, Mutant? mutant, string strategy, uint seed, uint iterations) =>
        new(ScenarioRegistry.Find(scenario)!, generation, mutant, strategy == Stress ? ExploreOptions.DefaultStrategy : strategy, iterations,
            RunRequest.DefaultMaxSteps, seed, 0, RunRequest.DefaultReaders, InvariantRegistry.All)
        {
            Stress = strategy == Stress,
        };
}
