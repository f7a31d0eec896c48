using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Traces;

namespace VmaLockVerify.Harness.Cli;

/// <summary>vmalock replay TRACE and vmalock regenerate TRACE.</summary>
public static class ReplayCommand
{
    /// <summary>The command that replays <paramref name="trace"/>, as explore's reports print it.</summary>
    public static string CommandLineFor(string trace) => $"dotnet run --project Harness -- replay {trace}";

    public static int Replay(string path, string format, string? html, TextWriter output)
    {
        if (format is not ("text" or "json"))
        {
            throw new HarnessException(ExitCodes.BadInput, $"--format must be text or json, not '{format}'");
        }

        OutputPaths.CheckFile("--html", html);
        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        var outcome = Replayer.Replay(path);
        var view = outcome.View;
        if (html is not null)
        {
            // Written before anything is printed, so a failing write leaves only the error line.
            OutputPaths.Write("--html", html, () => File.WriteAllText(html, TraceHtml.Render(outcome, view, path)));
        }

        if (format == "json")
        {
            output.WriteLine(TraceJson.Serialize(path, outcome, view));
            return ExitCodes.BugFound;
        }

        output.Write(Text(path, outcome));
        if (html is not null)
        {
            output.WriteLine($"wrote {html}");
        }

        return ExitCodes.BugFound;
    }

    /// <summary>What replay prints for a terminal: what was replayed, the per-thread table, the violation.</summary>
    public static string Text(string path, ReplayOutcome outcome)
    {
        var trace = outcome.Trace;
        var text = new StringWriter();
        text.WriteLine($"replaying {path}");
        text.WriteLine($"  scenario   {trace.Scenario}: {outcome.Result.Request.Scenario.Description}");
        text.WriteLine($"  generation {trace.Generation}: {outcome.Result.Request.Generation.Description}");
        if (trace.Mutant is not null)
        {
            text.WriteLine($"  mutant     {trace.Mutant}: {MutantRegistry.Find(trace.Mutant)?.Description}");
        }

        if (outcome.Result.Request.Patch is { } patch)
        {
            text.WriteLine($"  proposal   {patch.Name}: {patch.Description}");
        }

        text.WriteLine($"  found by   {trace.Command}");
        if (trace.MinimizedFrom is { } from)
        {
            text.WriteLine($"  minimised  by vmalock minimize, from {from} (the scheduler's count, hand-overs at a thread's exit included)");
        }

        text.WriteLine();
        text.Write(TraceRenderer.Render(outcome.View));
        if (outcome.Result.Bug!.Message != trace.Message)
        {
            text.WriteLine($"  (recorded message: {trace.Message})");
        }

        return text.ToString();
    }

    /// <summary>
    /// vmalock golden: rewrites the golden rendering of every saved trace in <paramref name="directory"/>
    /// (<c>golden/NAME.txt</c> beside <c>NAME.trace.json</c>), which the tests compare replays against.
    /// </summary>
    public static int Golden(string directory, TextWriter output)
    {
        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        var traces = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.trace.json").Order(StringComparer.Ordinal).ToList() : [];
        if (traces.Count == 0)
        {
            throw new HarnessException(ExitCodes.BadInput, $"no *.trace.json files in {directory}");
        }

        Directory.CreateDirectory(Path.Combine(directory, "golden"));
        foreach (var trace in traces)
        {
            var golden = GoldenPath(trace);
            var text = GoldenText(trace);
            var changed = !File.Exists(golden) || File.ReadAllText(golden) != text;
            File.WriteAllText(golden, text);
            output.WriteLine($"{(changed ? "rewrote" : "unchanged")} {golden}");
        }

        return ExitCodes.Clean;
    }

    /// <summary>The golden file of a saved trace: <c>traces/golden/NAME.txt</c>.</summary>
    public static string GoldenPath(string trace) =>
        Path.Combine(Path.GetDirectoryName(trace) ?? ".", "golden", Path.GetFileName(trace).Replace(".trace.json", ".txt", StringComparison.Ordinal));

    /// <summary>The replay text of a saved trace as the golden file pins it (the trace named as traces/NAME).</summary>
    public static string GoldenText(string trace) => Text($"traces/{Path.GetFileName(trace)}", Replayer.Replay(trace));

    /// <summary>vmalock minimize TRACE [-o OUT]: shrinks the schedule and writes it (in place without -o).</summary>
    public static int Minimize(string path, string? outPath, TextWriter output)
    {
        var target = outPath ?? path;
        Replayer.Check(path);
        OutputPaths.CheckFile(outPath is null ? "TRACE" : "-o", target);
        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        var original = Replayer.Replay(path); // a trace that does not replay is stale: nothing to minimise
        var minimized = Minimizer.Minimize(original.Trace, path);
        OutputPaths.Write(outPath is null ? "TRACE" : "-o", target, () => minimized.Trace.Save(target));
        var after = Replayer.Replay(target);
        output.WriteLine($"minimized {path} -> {target} ({minimized.Candidates} candidate schedules replayed)");
        output.WriteLine($"  before: {minimized.Before}; the table: {original.Steps.Count} kernel steps, {original.View.Switches} context switch(es)");
        output.WriteLine($"  after:  {minimized.After}; the table: {after.Steps.Count} kernel steps, {after.View.Switches} context switch(es)");
        output.WriteLine($"  still violates {after.Result.Bug!.Invariant}: {after.Result.Bug.Message}");
        return ExitCodes.Clean;
    }

    public static int Regenerate(IReadOnlyList<string> paths, bool currentInvariants, TextWriter output)
    {
        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        foreach (var path in paths)
        {
            Replayer.Check(path); // every trace checked before anything runs
            OutputPaths.CheckFile("TRACE", path);
        }

        foreach (var path in paths)
        {
            var fresh = Replayer.Regenerate(path, currentInvariants);
            output.WriteLine($"regenerated {path}: {fresh.Invariant} ({fresh.Command})");
        }

        return ExitCodes.Clean;
    }
}
