using System.Globalization;
using System.Text;

namespace VmaLockVerify.Harness.Cli;

/// <summary>The table explore prints: one row per scenario × generation × mutant, with what was explored.</summary>
public static class SummaryTable
{
    /// <summary>The table; a <c>memory</c> column after <c>gen</c> when the runs are under more than one memory model (else the header names it).</summary>
    public static string Render(IReadOnlyList<RunSummary> results)
    {
        var byModel = results.Select(r => r.Memory).Distinct().Count() > 1;
        string[] header = ["scenario", "gen", .. byModel ? ["memory"] : Array.Empty<string>(), "mutant", "strategy", "iterations", "bugs", "it/s", "steps/it", "at bound", "threads", "ops", "result"];
        var rows = results.Select(r =>
        {
            // Stress runs have no controlled scheduler to count steps, threads or operations.
            string Scheduled(long value) => r.Strategy == "stress" ? "-" : value.ToString(CultureInfo.InvariantCulture);
            return (string[])
            [
                r.Scenario,
                r.Generation,
                .. byModel ? [r.Memory] : Array.Empty<string>(),
                r.Mutant,
                r.Strategy,
                r.IterationsRun.ToString(CultureInfo.InvariantCulture),
                (r.Bug is null ? 0 : 1).ToString(CultureInfo.InvariantCulture),
                r.IterationsPerSecond.ToString("F0", CultureInfo.InvariantCulture),
                Scheduled(r.MaxStepsInAnIteration),
                Scheduled(r.IterationsAtStepBound),
                Scheduled(r.MaxConcurrency),
                Scheduled(r.ControlledOperations),
                r.Result,
            ];
        }).ToList();
        var text = new StringBuilder();
        text.AppendLine();
        text.Append(Columns(header, rows));
        text.AppendLine();
        text.AppendLine("steps/it: most scheduling decisions in one iteration; at bound: iterations cut off by --max-steps;");
        text.AppendLine("threads: most controlled operations alive at once; ops: controlled operations created over the run.");
        if (results.Any(r => r.Strategy == "stress"))
        {
            text.AppendLine("-: not measured (stress runs have no controlled scheduler to count them).");
        }

        var exhaustive = results.Where(r => r.Exhaustive is not null).ToList();
        if (exhaustive.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("exhaustive runs (each a bounded proof for its scenario, generation, memory model, reader threads and bounds when complete and clean):");
            foreach (var r in exhaustive)
            {
                text.AppendLine($"  {r.Label}, {r.Readers} reader thread(s): {(r.Bug is null ? r.Exhaustive!.Describe() : $"{r.Bug.Invariant} after {r.Exhaustive!.Schedules:N0} schedules with {r.Exhaustive.Bounds}")}; {r.AbstractStates} abstract states");
            }
        }

        var covered = results.Where(r => r.Coverage is not null).ToList();
        if (covered.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("coverage of the sampling runs (abstract protocol states: mmap_lock holders, VMA marks, attachment, read holders, freed; reader threads symmetric):");
            foreach (var r in covered)
            {
                text.AppendLine($"  {r.Label}: {r.Coverage!.Describe(r.Strategy, r.IterationsRun)}");
            }
        }
        return text.ToString();
    }

    /// <summary>A plain-text table: the header, a rule, the rows; columns as wide as their widest cell, two spaces apart.</summary>
    public static string Columns(IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Select(row => row[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        var text = new StringBuilder();
        text.AppendLine(Line(header, widths));
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            text.AppendLine(Line(row, widths));
        }

        return text.ToString();
    }

    private static string Line(IReadOnlyList<string> cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
}
