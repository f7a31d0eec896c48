using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Traces;

namespace VmaLockVerify.Harness.Cli;

/// <summary>vmalock replay TRACE and vmalock regenerate TRACE.</summary>
public static class ReplayCommand
{
    public static int Replay(string path, string format, string? html, TextWriter output)
    {
        if (format is not ("text" or "json"))
        {
            throw new HarnessException(ExitCodes.BadInput, $"--format must be text or json, not '{format}'");
        }

        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        var outcome = Replayer.Replay(path);
        var view = outcome.View;
        if (html is not null)
        {
            WriteHtml(html, TraceHtml.Render(outcome, view, path));
        }

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

        if (html is not null)
        {
            output.WriteLine($"wrote {html}");
        }

        return ExitCodes.BugFound;
    }

    /// <summary>Writes the page before anything is printed, so a bad path leaves only the error line.</summary>
    private static void WriteHtml(string file, string page)
    {
        try
        {
            File.WriteAllText(file, page);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new HarnessException(ExitCodes.BadInput, $"cannot write --html {file}: {e.Message}");
        }
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
