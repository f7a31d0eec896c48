using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.VmaLock;
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

    /// <summary>Rebuilds the exploration request a trace records; names this code no longer has make the trace stale.</summary>
    public static RunRequest RequestFor(TraceFile trace, string path)
    {
        var scenario = ScenarioRegistry.Find(trace.Scenario) ?? throw Stale(path, $"scenario '{trace.Scenario}' no longer exists");
        var generation = Generations.Find(trace.Generation) ?? throw Stale(path, $"generation '{trace.Generation}' no longer exists");
        Mutant? mutant = null;
        if (trace.Mutant is not null)
        {
            mutant = MutantRegistry.Find(trace.Mutant) ?? throw Stale(path, $"mutant '{trace.Mutant}' no longer exists");
        }

        var invariants = trace.Options.Invariants
            .Select(name => InvariantRegistry.Find(name) ?? throw Stale(path, $"invariant '{name}' no longer exists"))
            .ToList();
        if (!Strategies.IsKnown(trace.Options.Strategy))
        {
            throw new HarnessException(ExitCodes.BadInput, $"malformed trace file {path}: unknown strategy '{trace.Options.Strategy}'");
        }

        return new RunRequest(scenario, generation, mutant, trace.Options.Strategy, trace.Options.Iterations, trace.Options.MaxSteps,
            trace.Options.Seed, 0, trace.Options.Readers, invariants);
    }

    private static HarnessException Stale(string path, string why) =>
        new(ExitCodes.StaleTrace, $"stale trace {path}: {why}; regenerate it with: dotnet run --project Harness -- regenerate {path}");

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
