using System.Diagnostics;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>
/// explore --mode stress: the same scenario, port and invariants on real threads with no
/// controlled scheduler, random delays injected at the memory layer's scheduling points. The
/// baseline a kernel developer would otherwise use. What it finds is reported like explore's
/// findings, but a stress run has no replayable schedule.
/// </summary>
public static class StressRunner
{
    /// <summary>An iteration whose threads have not all finished by then is reported as a deadlock.</summary>
    public static readonly TimeSpan HangTimeout = TimeSpan.FromSeconds(10);

    public static RunResult Run(RunRequest request, Action<uint>? onIteration = null)
    {
        var clock = Stopwatch.StartNew();
        var lockOrder = new LockClassOrder(request.LockOrderStart);
        Finding? bug = null;
        uint iteration = 0;
        while (iteration < request.Iterations && bug is null
            && (request.TimeoutSeconds == 0 || clock.Elapsed.TotalSeconds < request.TimeoutSeconds))
        {
            onIteration?.Invoke(iteration);
            lockOrder.BeginIteration();
            bug = Iteration(request, (int)(request.Seed * 1_000_003 + iteration), lockOrder);
            iteration++;
        }

        // Steps, threads alive and operations are what Coyote's scheduler counts: not measured here (0).
        return new RunResult(request, iteration, bug, null, clock.Elapsed, [], 0, 0, 0, 0);
    }

    private static Finding? Iteration(RunRequest request, int seed, LockClassOrder lockOrder)
    {
        var control = new StressControl(seed);
        var memory = new LockedSequentialConsistency();
        var world = new KernelWorld(control, memory: memory);
        var sink = new DirectSink(request.Invariants, () => memory.LatestAccessOfThisThread, lockOrder);
        world.AddObserver(sink);
        var run = Explorer.Start(request, world);
        bool finished;
        try
        {
            finished = run.Wait(HangTimeout);
        }
        catch (AggregateException)
        {
            finished = true; // a thread stopped at a BUG() or an exception; the others are done
        }

        sink.Judge(finished && run.Status == TaskStatus.RanToCompletion);
        if (sink.Violation is { } v)
        {
            return new Finding(v.Invariant, v.Message);
        }

        if (control.Failure is { } failure)
        {
            return new Finding(Finding.KernelBug, failure);
        }

        if (!finished)
        {
            return new Finding(Finding.Deadlock, $"the threads of {request.Scenario.Name} did not finish within {HangTimeout.TotalSeconds} s");
        }

        return run.Exception is { } e ? new Finding(Finding.Exception, e.InnerException?.Message ?? e.Message) : null;
    }
}
