using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// vmalock merge RESULT.json...: combines the --json results of explore's shards (or of any
/// explores) into one report, with explore's exit-code rules: 0 nothing found, 1 a bug, 2 a
/// missing or malformed file, 3 uncontrolled concurrency in any of them.
/// </summary>
public static class MergeCommand
{
    public static int Run(IReadOnlyList<string> paths, TextWriter output)
    {
        var summaries = paths.Select(ExploreSummary.Load).ToList();
        var runs = summaries.SelectMany(s => s.Runs).ToList();
        output.WriteLine($"vmalock merge: {paths.Count} file(s) ({string.Join(", ", summaries.Select(s => s.Shard ?? "whole"))}), {runs.Count} run(s)");
        var uncontrolled = runs.FirstOrDefault(r => r.UncontrolledInvocations.Count > 0);
        if (uncontrolled is not null)
        {
            throw new HarnessException(ExitCodes.NotHonest, $"uncontrolled concurrency in {uncontrolled.Label}: {uncontrolled.UncontrolledInvocations[0]}");
        }

        return ExploreCommand.Report(runs, output);
    }
}
