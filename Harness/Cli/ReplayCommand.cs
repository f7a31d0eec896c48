using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Traces;

namespace VmaLockVerify.Harness.Cli;

/// <summary>vmalock replay TRACE and vmalock regenerate TRACE.</summary>
public static class ReplayCommand
{
    public static int Replay(string path, TextWriter output)
    {
        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        var outcome = Replayer.Replay(path);
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
        output.Write(TraceRenderer.Render(outcome.Steps));
        output.WriteLine();
        output.WriteLine($"VIOLATION {outcome.Result.Bug!.Invariant}: {outcome.Result.Bug.Message}");
        if (outcome.Result.Bug.Message != trace.Message)
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
