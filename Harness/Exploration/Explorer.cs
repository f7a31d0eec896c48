using System.Diagnostics;
using Microsoft.Coyote;
using Microsoft.Coyote.Logging;
using Microsoft.Coyote.SystematicTesting;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Harness.Traces;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>Runs scenarios under Coyote's TestingEngine, one fresh kernel per iteration.</summary>
public static class Explorer
{
    /// <summary>Explores one request (or replays one schedule when <paramref name="reproducibleTrace"/> is given).</summary>
    public static RunResult Run(
        RunRequest request, TraceRecorder? recorder = null, string? reproducibleTrace = null, Action<uint>? onIteration = null, Func<Configuration, Configuration>? tune = null)
    {
        var lockOrder = new LockClassOrder(request.LockOrderStart);
        var search = request.IsExhaustive && reproducibleTrace is null ? new ExhaustiveSearch(request.Preemptions, request.UnusualChoices, request.Reduce, request.KeepEventStreams, request.TreeShard) : null;
        var states = new HashSet<long>();
        var raised = new RaisedFinding();
        var result = RunBody(
            request,
            () => Iteration(request, recorder, lockOrder, search, states, raised),
            onIteration,
            reproducibleTrace,
            tune,
            search is null ? null : (engine, configuration) => Drive(engine, configuration, search, request));
        if (search?.Failure is { } failure)
        {
            throw new HarnessException(ExitCodes.NotHonest, $"{request.Label}: exhaustive search stopped: {failure}");
        }

        if (search is not null)
        {
            // Coyote counts the iterations the search cut as ended at the step bound; any other
            // iteration there was cut by --max-steps, so the run explored less than its bounds say.
            var atBound = Math.Max(0, result.IterationsAtStepBound - (int)search.CutIterations);
            var outcome = search.Outcome;
            result = result with { IterationsAtStepBound = atBound, Exhaustive = outcome with { Complete = outcome.Complete && atBound == 0 }, EventStreams = search.EventStreams };
        }

        // The kind of a bug the port's monitors or its kernel checks raised is theirs; Classify
        // names only what Coyote itself reports (a deadlock, uncontrolled code, an exception, a
        // liveness monitor's timeout), and gives the message as Coyote reported it.
        if (result.Bug is { } bug && raised.Kind is { } kind)
        {
            result = result with { Bug = bug with { Invariant = kind } };
        }

        result = result with { AbstractStates = states };
        return result.Bug is null ? result : result with { LockOrderAtBug = lockOrder.Start };
    }

    /// <summary>Hands <paramref name="engine"/>'s decisions to <paramref name="search"/>, which stops it when no branch is left.</summary>
    private static void Drive(TestingEngine engine, Configuration configuration, ExhaustiveSearch search, RunRequest request)
    {
        search.Attach(CoyoteSchedulerHook.Install(engine, search, (int)request.MaxSteps));
        engine.RegisterEndIterationCallBack(iteration =>
        {
            if (!search.IterationEnded())
            {
                CoyoteSchedulerHook.StopAfterThisIteration(configuration, iteration);
            }
        });
    }

    /// <summary>
    /// Coyote settings that only cost time here, each with how to undo it (the throughput bench
    /// measures each against Coyote's default). Trace analysis builds, at every scheduling
    /// decision, a graph of the call sites each operation went through since its last one; it
    /// is only written out as a DGML file, which vmalock never asks for.
    /// </summary>
    public static IReadOnlyList<(string Name, Func<Configuration, Configuration> Apply, Func<Configuration, Configuration> Undo)> SpeedSettings { get; } =
    [
        ("WithTraceAnalysisEnabled(false)", c => c.WithTraceAnalysisEnabled(false), c => c.WithTraceAnalysisEnabled(true)),
    ];

    /// <summary>
    /// The engine's configuration for <paramref name="request"/>: its strategy, seed, iteration
    /// and step bounds, timeout, and the settings every run shares (no telemetry, no logging, no
    /// uncontrolled concurrency); <paramref name="tune"/> changes the settings that cost time but
    /// decide nothing (the throughput bench measures them one by one).
    /// </summary>
    public static Configuration Configure(RunRequest request, string? reproducibleTrace = null, Func<Configuration, Configuration>? tune = null)
    {
        var configuration = Configuration.Create()
            .WithTelemetryEnabled(false)
            .WithPartiallyControlledConcurrencyAllowed(false)
            .WithVerbosityEnabled(VerbosityLevel.None)
            .WithConsoleLoggingEnabled(false)
            .WithTestingIterations(request.IsExhaustive && request.Iterations == 0 ? uint.MaxValue : request.Iterations)
            .WithMaxSchedulingSteps(request.MaxSteps)
            .WithRandomGeneratorSeed(request.Seed);
        configuration = SpeedSettings.Aggregate(configuration, (c, s) => s.Apply(c));
        configuration = Strategies.Apply(configuration, request.Strategy);
        if (request.TimeoutSeconds > 0)
        {
            configuration = configuration.WithTestingTimeout(request.TimeoutSeconds);
        }

        if (reproducibleTrace is not null)
        {
            configuration = configuration.WithReproducibleTrace(reproducibleTrace);
        }

        return tune is null ? configuration : tune(configuration);
    }

    /// <summary>
    /// Runs <paramref name="body"/> as the test of an engine configured for <paramref name="request"/>
    /// (<see cref="Configure"/>), one call per iteration, and reports what it explored; the bug, if
    /// any, is classified against <paramref name="request"/>. Run uses it with a booted kernel, the
    /// throughput bench with Coyote's floor.
    /// </summary>
    public static RunResult RunBody(
        RunRequest request,
        Func<Task> body,
        Action<uint>? onIteration = null,
        string? reproducibleTrace = null,
        Func<Configuration, Configuration>? tune = null,
        Action<TestingEngine, Configuration>? prepare = null)
    {
        var configuration = Configure(request, reproducibleTrace, tune);
        using var engine = TestingEngine.Create(configuration, body);
        prepare?.Invoke(engine, configuration);
        if (onIteration is not null)
        {
            engine.RegisterStartIterationCallBack(onIteration); // outside the iteration: no scheduling point of its own
        }

        engine.SetLogger(new MemoryLogger(VerbosityLevel.None));
        var clock = Stopwatch.StartNew();
        engine.Run();
        clock.Stop();

        var report = engine.TestReport;
        var bug = report.NumOfFoundBugs > 0 ? Classify(report.BugReports.First(), request) : null;
        var steps = Math.Max(report.MaxExploredFairSteps, report.MaxExploredUnfairSteps);
        return new RunResult(
            request,
            report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths,
            bug,
            bug is null ? null : reproducibleTrace is null ? engine.ReproducibleTrace : ExecutedSchedule.Of(engine, configuration),
            clock.Elapsed,
            [.. report.UncontrolledInvocations.Order(StringComparer.Ordinal)],
            steps,
            report.MaxUnfairStepsHitInUnfairTests + report.MaxFairStepsHitInFairTests,
            report.MaxConcurrencyDegree,
            report.TotalControlledOperations)
        {
            Steps = (long)report.TotalExploredFairSteps + report.TotalExploredUnfairSteps,
        };
    }

    /// <summary>
    /// One iteration: boot a kernel, attach the monitors (handing them the lock-order graph the
    /// run's earlier iterations built), run the scenario to completion.
    /// </summary>
    private static Task Iteration(RunRequest request, TraceRecorder? recorder, LockClassOrder lockOrder, ExhaustiveSearch? search, HashSet<long> states, RaisedFinding raised)
    {
        recorder?.Reset();
        lockOrder.BeginIteration();
        raised.Kind = null;
        var guide = search?.NewGuide();
        var control = new CoyoteControl(guide, _ => raised.Kind ??= Finding.KernelBug);
        IMemoryModel? memory = request.Memory == RunRequest.LkmmMemory ? new LkmmMemoryModel(control, recorder: recorder) : null;
        if (guide is not null && memory is not null)
        {
            memory = new FootprintMemory(memory, guide);
        }

        var world = new KernelWorld(control, recorder, memory) { Footprint = guide };
        var sink = MonitorSink.Attach(
            request.Invariants,
            (invariant, _) =>
            {
                raised.Kind ??= invariant;
                recorder?.Stop();
            },
            lockOrder);
        world.AddObserver(sink);
        world.AddObserver(new ProtocolCoverage(states, sink.Spec));
        if (request.KeepEventStreams && guide is not null)
        {
            world.AddObserver(guide);
        }

        return Start(request, world);
    }

    /// <summary>Boots the generation (or the mutant, or the proposal) in <paramref name="world"/> and starts the scenario.</summary>
    public static Task Start(RunRequest request, KernelWorld world)
    {
        var linux = request.Mutant?.Create(world, request.Generation) ?? request.Patch?.Create(world, request.Generation) ?? request.Generation.Create(world);
        return request.Scenario.RunAsync(new BootedKernel(world, linux), request.Readers);
    }

    /// <summary>What raised the bug of the iteration running, when the port raised it: an invariant's name, or <see cref="Finding.KernelBug"/>.</summary>
    private sealed class RaisedFinding
    {
        public string? Kind { get; set; }
    }

    /// <summary>Names what a Coyote bug report is about.</summary>
    public static Finding Classify(string report, RunRequest request)
    {
        var message = report.Trim();
        if (message.StartsWith('['))
        {
            var end = message.IndexOf(']', StringComparison.Ordinal);
            var name = message[1..end];
            if (InvariantRegistry.Find(name) is not null)
            {
                return new Finding(name, message[(end + 1)..].Trim());
            }
        }

        if (message.Contains("liveness", StringComparison.OrdinalIgnoreCase))
        {
            var monitor = request.Invariants.FirstOrDefault(i => message.Contains(i.Name, StringComparison.Ordinal));
            if (monitor is not null)
            {
                return new Finding(monitor.Name, message);
            }
        }

        if (message.StartsWith("kernel BUG", StringComparison.Ordinal))
        {
            return new Finding(Finding.KernelBug, message);
        }

        if (message.StartsWith("Deadlock", StringComparison.OrdinalIgnoreCase) || message.Contains("deadlock", StringComparison.OrdinalIgnoreCase))
        {
            return new Finding(Finding.Deadlock, message);
        }

        if (message.Contains("uncontrolled", StringComparison.OrdinalIgnoreCase) || message.Contains("not intercepted", StringComparison.OrdinalIgnoreCase))
        {
            return new Finding(Finding.Uncontrolled, message);
        }

        return new Finding(Finding.Exception, message);
    }
}
