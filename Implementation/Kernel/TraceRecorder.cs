namespace VmaLockVerify.Implementation.Kernel;

/// <summary>What one recorded step is.</summary>
public enum TraceStepKind
{
    /// <summary>The thread entered a kernel function.</summary>
    Enter,

    /// <summary>The kernel function returned (with its value, if it has one).</summary>
    Return,

    /// <summary>A load, store or atomic on a shared location.</summary>
    Access,

    /// <summary>A protocol event the monitors saw.</summary>
    Event,

    /// <summary>The thread went to sleep in schedule().</summary>
    Block,

    /// <summary>The thread was woken.</summary>
    Wake,

    /// <summary>A controlled choice (a timeout taken, a path chosen).</summary>
    Choice,
}

/// <summary>One step of a thread, at a call depth.</summary>
public sealed record TraceStep(int Index, string Thread, int Depth, TraceStepKind Kind, string Text);

/// <summary>
/// Collects the steps of one iteration in execution order, for printing a replayed schedule in
/// kernel terms. Attached only when replaying: exploration runs without it.
/// </summary>
public sealed class TraceRecorder
{
    private readonly List<TraceStep> steps = [];

    private bool stopped;

    public IReadOnlyList<TraceStep> Steps => this.steps;

    /// <summary>Starts a new iteration: forgets the steps of the previous one.</summary>
    public void Reset()
    {
        this.steps.Clear();
        this.stopped = false;
    }

    /// <summary>
    /// Ends the recording at a violation: what the threads do while the run is torn down
    /// (scopes unwinding, cancelled operations) did not happen in the kernel and is not recorded.
    /// </summary>
    public void Stop() => this.stopped = true;

    public void Add(string thread, int depth, TraceStepKind kind, string text)
    {
        if (!this.stopped)
        {
            this.steps.Add(new TraceStep(this.steps.Count, thread, depth, kind, text));
        }
    }
}
