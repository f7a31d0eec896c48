using VmaLockVerify.Spec;

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

/// <summary>
/// Where the port reports what it does, step by step, while a schedule is recorded (a replay):
/// the harness's trace recorder. Exploration runs without one, and the port then builds no text.
/// </summary>
public interface ITraceSink
{
    /// <summary>The steps recorded so far in this iteration: the index the next step will get.</summary>
    int Count { get; }

    /// <summary>
    /// Ends the recording at a violation: what the threads do while the run is torn down (scopes
    /// unwinding, cancelled operations) did not happen in the kernel and is not recorded.
    /// </summary>
    void Stop();

    /// <summary>One step of <paramref name="thread"/> at call depth <paramref name="depth"/>; an access names its location and the value after it, an event carries the protocol event, a load of an older store the newer stores it did not see.</summary>
    void Add(ThreadName thread, int depth, TraceStepKind kind, string text, string? location = null, string? value = null, ProtocolEvent? e = null, IReadOnlyList<UnseenStore>? unseen = null);
}
