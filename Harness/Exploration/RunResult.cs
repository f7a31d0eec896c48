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
    public double IterationsPerSecond => this.Elapsed.TotalSeconds > 0 ? this.IterationsRun / this.Elapsed.TotalSeconds : 0;
}
