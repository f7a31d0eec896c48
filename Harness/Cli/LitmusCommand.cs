using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Litmus;
using VmaLockVerify.Implementation.Memory.Lkmm;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// vmalock litmus FILE...: enumerates every execution of each C litmus test on the chosen memory
/// model, prints the outcomes as herd7 does, and compares the observation with the file's
/// <c>Result:</c> line. Exit 0 when every file agrees, 1 when one does not, 2 when a file cannot
/// be read or parsed (nothing is run then).
/// </summary>
public static class LitmusCommand
{
    public const string DefaultMemory = RunRequest.LkmmMemory;
    public const string DefaultPlacement = "insert";

    public static int Run(string[] files, string memory, string placement, TextWriter output)
    {
        var options = Options(memory, placement);
        var tests = files.Select(LitmusParser.ParseFile).ToList();
        var disagreements = 0;
        foreach (var test in tests)
        {
            var outcome = LitmusRunner.Run(test, options);
            Print(outcome, options, output);
            var verdict = Verdict(outcome, options);
            output.WriteLine(verdict.Line);
            output.WriteLine();
            disagreements += verdict.Agrees ? 0 : 1;
        }

        output.WriteLine($"{tests.Count} test(s), {tests.Count - disagreements} as expected, {disagreements} not ({Describe(options)})");
        return disagreements == 0 ? ExitCodes.Clean : ExitCodes.BugFound;
    }

    /// <summary>The options of --memory and --placement.</summary>
    public static LkmmOptions Options(string memory, string placement)
    {
        var place = placement switch
        {
            "insert" => LkmmWritePlacement.Insert,
            "append" => LkmmWritePlacement.Append,
            _ => throw new HarnessException(ExitCodes.BadInput, $"--placement must be insert or append, not '{placement}'"),
        };
        return memory switch
        {
            RunRequest.LkmmMemory => LkmmOptions.Default with { Placement = place },
            RunRequest.ScMemory => LkmmOptions.SequentiallyConsistent,
            _ => throw new HarnessException(ExitCodes.BadInput, $"--memory must be {string.Join(" or ", RunChecks.MemoryModels)}, not '{memory}'"),
        };
    }

    /// <summary>
    /// What this model is expected to observe: the file's <c>Known-limit:</c> under the default
    /// model (a documented miss), else its <c>Result:</c>; and whether it did. A known limit that the
    /// model no longer shows is a disagreement, so the file's note gets corrected.
    /// </summary>
    public static (bool Agrees, string Line) Verdict(LitmusOutcome outcome, LkmmOptions options)
    {
        var test = outcome.Test;
        var observed = outcome.Observation;
        if (test.Result is null)
        {
            return (true, $"Result: none in the file; observed {observed}");
        }

        if (test.KnownLimit is { } limit && options == LkmmOptions.Default)
        {
            return observed == limit
                ? (true, $"Result: {test.Result} per LKMM; observed {observed}: a known limitation of this model (see the file)")
                : (false, $"Result: {test.Result} per LKMM; observed {observed}, but the file records the known limitation {limit}: update it");
        }

        return observed == test.Result
            ? (true, $"Result: {test.Result}; observed {observed}: agrees")
            : (false, $"Result: {test.Result}; observed {observed}: DISAGREES");
    }

    private static void Print(LitmusOutcome outcome, LkmmOptions options, TextWriter output)
    {
        var test = outcome.Test;
        output.WriteLine($"Test {test.Name} {(test.Condition.Kind == LitmusCondition.Quantifier.Forall ? "Required" : "Allowed")} ({Describe(options)})");
        output.WriteLine($"States {outcome.States.Count}");
        foreach (var (state, count) in outcome.States)
        {
            output.WriteLine($"{count,-8} {state}");
        }

        var ok = test.Condition.Kind switch
        {
            LitmusCondition.Quantifier.Exists => outcome.Positive > 0,
            LitmusCondition.Quantifier.NotExists => outcome.Positive == 0,
            _ => outcome.Negative == 0,
        };
        output.WriteLine(ok ? "Ok" : "No");
        output.WriteLine("Witnesses");
        output.WriteLine($"Positive: {outcome.Positive} Negative: {outcome.Negative}");
        output.WriteLine($"Condition {test.Condition.Text}");
        output.WriteLine($"Observation {test.Name} {outcome.Observation} {outcome.Positive} {outcome.Negative}");
        output.WriteLine($"Executions {outcome.Executions}");
    }

    private static string Describe(LkmmOptions options) =>
        options.Kind == LkmmMemoryKind.SequentialConsistency
            ? "memory sc"
            : $"memory lkmm, placement {options.Placement.ToString().ToLowerInvariant()}, history {options.HistoryBound}";
}
