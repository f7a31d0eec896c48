using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// vmalock merge RESULT.json...: combines the --json results of explore's shards (or of any
/// explores) into one report, with explore's exit-code rules: 0 nothing found, 1 a bug, 2 a
/// missing or malformed file (or files run under different memory models: the shards of one
/// explore share theirs), 3 uncontrolled concurrency in any of them.
/// </summary>
public static class MergeCommand
{
    public static int Run(IReadOnlyList<string> paths, TextWriter output)
    {
        var summaries = paths.Select(ExploreSummary.Load).ToList();
        var first = summaries[0];
        var other = summaries.Select((s, i) => (Summary: s, Path: paths[i])).FirstOrDefault(s => !s.Summary.Memory.ToHashSet().SetEquals(first.Memory));
        if (other.Summary is not null)
        {
            throw RunChecks.BadInput(
                $"cannot merge results run under different memory models: {paths[0]} under {string.Join(", ", first.Memory)}, {other.Path} under {string.Join(", ", other.Summary.Memory)}");
        }

        var runs = RunSummary.MergeSlices(summaries.SelectMany(s => s.Runs).ToList());
        output.WriteLine($"vmalock merge: {paths.Count} file(s) ({string.Join(", ", summaries.Select(s => s.Shard ?? "whole"))}), {runs.Count} run(s)");
        ExploreCommand.WriteMemory(output, first.Memory, summaries.SelectMany(s => s.Skipped).Distinct());

        var uncontrolled = runs.FirstOrDefault(r => r.UncontrolledInvocations.Count > 0);
        if (uncontrolled is not null)
        {
            throw new HarnessException(ExitCodes.NotHonest, $"uncontrolled concurrency in {uncontrolled.Label}: {uncontrolled.UncontrolledInvocations[0]}");
        }

        return ExploreCommand.Report(runs, output);
    }
}
