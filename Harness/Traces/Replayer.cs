using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Traces;

/// <summary>The result of replaying a saved trace.</summary>
public sealed record ReplayOutcome(TraceFile Trace, RunResult Result, IReadOnlyList<TraceStep> Steps)
{
    public bool Reproduced => this.Result.Bug?.Invariant == this.Trace.Invariant;

    /// <summary>The replayed steps laid out per thread, closed by the violation.</summary>
    public TraceView View => TraceView.From(this.Steps, new TraceViolation(this.Result.Bug!.Invariant, this.Result.Bug.Message));
}

/// <summary>Replays saved traces, and re-runs the explorations that made them.</summary>
public static class Replayer
{
    /// <summary>Replays the trace's schedule once, recording every step.</summary>
    public static ReplayOutcome Replay(string path)
    {
        var trace = TraceFile.Load(path);
        var request = ReplayRequestFor(trace, path);
        var recorder = new TraceRecorder();
        RunResult result;
        try
        {
            result = Explorer.Run(request, recorder, trace.CoyoteTrace.ToJsonString());
        }
        catch (Exception e) when (e is not HarnessException)
        {
            throw Stale(path, $"Coyote could not follow the recorded schedule ({e.GetType().Name}: {FirstLine(e.Message)})");
        }

        var outcome = new ReplayOutcome(trace, result, [.. recorder.Steps]);
        if (!outcome.Reproduced)
        {
            throw Stale(path, result.Bug is null
                ? $"the recorded schedule no longer violates {trace.Invariant}"
                : $"the recorded schedule now ends in {result.Bug.Invariant} instead of {trace.Invariant}");
        }

        return outcome;
    }

    /// <summary>
    /// Re-runs the exploration recorded in the trace and overwrites it with the schedule it finds
    /// now; with <paramref name="currentInvariants"/>, judged by every invariant registered now.
    /// </summary>
    public static TraceFile Regenerate(string path, bool currentInvariants = false)
    {
        var old = TraceFile.Load(path);
        var request = RequestFor(old, path);
        var result = Explorer.Run(currentInvariants ? request with { Invariants = InvariantRegistry.All } : request);
        if (result.Bug?.Invariant != old.Invariant)
        {
            throw new HarnessException(
                ExitCodes.StaleTrace,
                $"cannot regenerate {path}: '{result.Request.CommandLine()}' now finds {(result.Bug is null ? "no bug" : result.Bug.Invariant)}, not {old.Invariant}");
        }

        var fresh = TraceFile.From(result);
        if (old.MinimizedFrom is not null)
        {
            fresh = Minimizer.Minimize(fresh, path).Trace; // traces stored minimised stay minimised
        }

        fresh.Save(path);
        return fresh;
    }

    /// <summary>
    /// The request that replays the trace's one iteration: its exploration's, for one iteration,
    /// starting from the lock-order graph the exploration had learnt before it.
    /// </summary>
    public static RunRequest ReplayRequestFor(TraceFile trace, string path) => RequestFor(trace, path) with
    {
        Iterations = 1,
        LockOrderStart = trace.LockOrder,
    };

    /// <summary>Checks a trace file without running it: every field (<see cref="TraceFile.Load"/>) and every name.</summary>
    public static void Check(string path) => RequestFor(TraceFile.Load(path), path);

    /// <summary>
    /// Rebuilds the exploration request a trace records. Names this code does not have, and
    /// options or names that do not fit together (a mutant in a generation it does not exist in,
    /// a violated invariant the options did not register), are a malformed trace (exit 2), held
    /// to exactly what explore accepts.
    /// </summary>
    public static RunRequest RequestFor(TraceFile trace, string path)
    {
        HarnessException Bad(string problem) => new(ExitCodes.BadInput, $"malformed trace file {path}: {problem}");
        var patch = trace.Patch is null ? null : RunChecks.Patch(trace.Patch, Bad);
        var scenario = RunChecks.Scenario(trace.Scenario, Bad, patch);
        var generation = RunChecks.Generation(trace.Generation, Bad);
        var mutant = trace.Mutant is null ? null : RunChecks.Mutant(trace.Mutant, Bad);
        if (mutant is not null && RunChecks.MutantIn(mutant, generation) is { } problem)
        {
            throw Bad(problem);
        }

        if (patch is not null && RunChecks.PatchIn(patch, generation) is { } notFor)
        {
            throw Bad(notFor);
        }

        var invariants = trace.Options.Invariants.Select(name => RunChecks.Invariant(name, Bad)).Distinct().ToList();
        RunChecks.Strategy(trace.Options.Strategy, Bad);
        var memory = RunChecks.Memory(trace.Options.Memory ?? RunRequest.ScMemory, Bad);
        var violated = trace.Invariant;
        if (!Finding.NotInvariants.Any(f => f.Name == violated) && !invariants.Any(i => i.Name == violated))
        {
            throw Bad(InvariantRegistry.Find(violated) is null
                ? RunChecks.Unknown("invariant", violated, InvariantRegistry.All.Select(i => i.Name).Concat(Finding.NotInvariants.Select(f => f.Name)))
                : $"invariant '{violated}' is not among options.invariants, so the recorded run could not have reported it");
        }

        return new RunRequest(scenario, generation, mutant, trace.Options.Strategy, trace.Options.Iterations, trace.Options.MaxSteps,
            trace.Options.Seed, 0, trace.Options.Readers, invariants)
        {
            Memory = memory,
            Preemptions = trace.Options.Preemptions ?? RunRequest.DefaultPreemptions,
            UnusualChoices = trace.Options.Choices ?? RunRequest.DefaultUnusualChoices,
            Reduce = trace.Options.Reduction ?? true,
            TreeShard = trace.Options.Slice is { } slice ? RunChecks.Slice(slice).Slice : null,
            Patch = patch,
        };
    }

    private static HarnessException Stale(string path, string why) =>
        new(ExitCodes.StaleTrace, $"stale trace {path}: {why}; regenerate it with: dotnet run --project Harness -- regenerate {path}");

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
