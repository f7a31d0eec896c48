using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Traces;

namespace VmaLockVerify.Harness.Cli;

/// <summary>vmalock replay TRACE and vmalock regenerate TRACE.</summary>
public static class ReplayCommand
{
    /// <summary>The command that replays <paramref name="trace"/>, as explore's reports print it.</summary>
    public static string CommandLineFor(string trace) => $"dotnet run --project Harness -- replay {trace}";

    public static int Replay(string path, string format, TextWriter output)
    {
        if (format is not ("text" or "json"))
        {
            throw new HarnessException(ExitCodes.BadInput, $"--format must be text or json, not '{format}'");
        }

        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        var outcome = Replayer.Replay(path);
        var view = outcome.View;
        if (format == "json")
        {
            output.WriteLine(TraceJson.Serialize(path, outcome, view));
            return ExitCodes.BugFound;
        }

        var trace = outcome.Trace;
        output.WriteLine($"replaying {path}");
        output.WriteLine($"  scenario   {trace.Scenario}: {outcome.Result.Request.Scenario.Description}");
        output.WriteLine($"  generation {trace.Generation}: {outcome.Result.Request.Generation.Description}");
        if (trace.Mutant is not null)
        {
            output.WriteLine($"  mutant     {trace.Mutant}: {MutantRegistry.Find(trace.Mutant)?.Description}");
        }

        output.WriteLine($"  found by   {trace.Command}");
        output.WriteLine();
        output.Write(TraceRenderer.Render(view));
        if (outcome.Result.Bug!.Message != trace.Message)
        {
            output.WriteLine($"  (recorded message: {trace.Message})");
        }

        return ExitCodes.BugFound;
    }

    public static int Regenerate(IReadOnlyList<string> paths, TextWriter output)
    {
        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        foreach (var path in paths)
        {
            var fresh = Replayer.Regenerate(path);
            output.WriteLine($"regenerated {path}: {fresh.Invariant} ({fresh.Command})");
        }

        return ExitCodes.Clean;
    }
}
