using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>What broke: the invariant (or "deadlock", "kernel-bug", ...) and Coyote's message.</summary>
public sealed record Finding(string Invariant, string Message)
{
    /// <summary>Kernel assertions (VM_BUG_ON, KASAN) the port itself raised.</summary>
    public const string KernelBug = "kernel-bug";

    /// <summary>Every thread blocked.</summary>
    public const string Deadlock = "deadlock";

    /// <summary>Code ran outside Coyote's control.</summary>
    public const string Uncontrolled = "uncontrolled";

    /// <summary>An exception the port did not expect.</summary>
    public const string Exception = "exception";

    /// <summary>The findings that are not invariants, each with what it means (SARIF lists them as rules beside the invariants).</summary>
    public static IReadOnlyList<(string Name, string Meaning)> NotInvariants { get; } =
    [
        (KernelBug, "The port hit one of the kernel's own checks: BUG(), VM_BUG_ON(), a refcount_t warning or a KASAN report."),
        (Deadlock, "Every thread is blocked: the schedule cannot go on."),
        (Uncontrolled, "Code ran outside Coyote's control, so the exploration cannot be trusted."),
        (Exception, "The port threw an exception it does not expect."),
    ];
}

/// <summary>The outcome of one engine run, and what it explored.</summary>
public sealed record RunResult(
    RunRequest Request,
    long IterationsRun,
    Finding? Bug,
    string? ReproducibleTrace,
    TimeSpan Elapsed,
    IReadOnlyList<string> Uncontrolled,
    int MaxStepsInAnIteration,
    int IterationsAtStepBound,
    int MaxConcurrency,
    long ControlledOperations)
{
    /// <summary>The lock-order graph's state when the buggy iteration began (its number, and the edges learnt before it).</summary>
    public LockOrderSnapshot? LockOrderAtBug { get; init; }

    /// <summary>An exhaustive run's distinct event streams, when the request kept them (<see cref="ExhaustiveSearch.EventStreams"/>).</summary>
    public IReadOnlySet<string>? EventStreams { get; init; }

    /// <summary>The distinct abstract protocol states the run visited (<see cref="Invariants.ProtocolCoverage"/>).</summary>
    public IReadOnlySet<long> AbstractStates { get; init; } = new HashSet<long>();

    /// <summary>What a bounded-exhaustive run explored (null for a sampling strategy).</summary>
    public ExhaustiveOutcome? Exhaustive { get; init; }

    /// <summary>The scheduling decisions and controlled choices of all the iterations together (Coyote's steps; 0 in stress mode).</summary>
    public long Steps { get; init; }

    public double IterationsPerSecond => this.Elapsed.TotalSeconds > 0 ? this.IterationsRun / this.Elapsed.TotalSeconds : 0;
}
