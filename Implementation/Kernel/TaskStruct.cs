using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Kernel;

/// <summary>
/// A kernel thread of a scenario (<c>current</c>): its name, the kernel functions it is inside,
/// its RCU read-side nesting, and the sleep/wake handshake of schedule() and wake_up_process().
/// </summary>
public sealed class TaskStruct(KernelWorld world, ThreadName name, MmName? mm)
{
    /// <summary>A schedule() returns at once, without its wake-up, one time in this many.</summary>
    private const int SpuriousWakeupChance = 8;

    private readonly object sleepLock = new();
    private readonly List<string> functions = [];
    private bool wakeupPending;
    private bool spuriouslyWoken;

    /// <summary>What traces call the scenario's setup, which runs before any task and on none.</summary>
    public static ThreadName Setup { get; } = new("main");

    public ThreadName Name { get; } = name;

    public KernelWorld World { get; } = world;

    /// <summary>current->mm: the address space of the task's process (null for a kernel thread).</summary>
    public MmName? Mm { get; } = mm;

    /// <summary>The user-address translations cached by the CPU the task runs on.</summary>
    public Tlb Tlb { get; } = new();

    /// <summary>rcu_read_lock() nesting depth.</summary>
    public int RcuNesting { get; internal set; }

    /// <summary>
    /// kcsan_nestable_atomic_begin()/_end() nesting (include/linux/kcsan-checks.h, kept in the task's
    /// kcsan_ctx): KCSAN treats every access in between as atomic, i.e. marked, and so does the
    /// LKMM model's data-race check. The seqcount write side opens one from
    /// do_raw_write_seqcount_begin() to do_raw_write_seqcount_end() (include/linux/seqlock.h).
    /// </summary>
    public int KcsanAtomicNesting { get; private set; }

    /// <summary>The innermost kernel function the task is in.</summary>
    public string FunctionName => this.functions.Count == 0 ? "(task body)" : this.functions[^1];

    /// <summary>How many kernel functions deep the task is.</summary>
    public int Depth => this.functions.Count;

    /// <summary>kcsan_nestable_atomic_begin().</summary>
    public void KcsanNestableAtomicBegin() => this.KcsanAtomicNesting++;

    /// <summary>kcsan_nestable_atomic_end().</summary>
    public void KcsanNestableAtomicEnd() =>
        this.KcsanAtomicNesting = this.KcsanAtomicNesting > 0
            ? this.KcsanAtomicNesting - 1
            : throw new InvalidOperationException($"kcsan_nestable_atomic_end() without kcsan_nestable_atomic_begin() in {this.Name}");

    internal void PushFunction(string function) => this.functions.Add(function);

    internal void PopFunction() => this.functions.RemoveAt(this.functions.Count - 1);

    /// <summary>
    /// schedule() after set_current_state(TASK_UNINTERRUPTIBLE): sleeps until woken. A wake-up that
    /// came after the sleeper set its state but before it slept is not lost (the kernel's
    /// set_current_state / wake_up_process handshake). The sleeper may also come back without the
    /// wake-up it waits for (a stale wake_q entry, a wake-up meant for an earlier wait): a
    /// controlled choice, at most once before it really sleeps. Callers re-check their condition
    /// in a loop, as the kernel's do.
    /// </summary>
    public void Schedule()
    {
        this.World.MightSleep("schedule()");
        // Spurious wake-ups are rare and never endless: at most one between two real ones, so
        // every wait still ends in a bounded number of steps.
        if (!this.spuriouslyWoken && this.World.Chance($"{this.Name} woken spuriously", SpuriousWakeupChance))
        {
            this.spuriouslyWoken = true;
            return;
        }

        this.spuriouslyWoken = false;

        this.World.Record(TraceStepKind.Block, "schedule()");
        lock (this.sleepLock)
        {
            while (!this.wakeupPending)
            {
                Monitor.Wait(this.sleepLock);
            }

            this.wakeupPending = false;
        }

        this.World.Memory.Woken();
        this.World.Record(TraceStepKind.Wake, "woken");
    }

    /// <summary>wake_up_process(task) (wake_up_q of a wake_q holding it).</summary>
    public void WakeUp()
    {
        this.World.Memory.WakeUp();
        lock (this.sleepLock)
        {
            this.wakeupPending = true;
            Monitor.Pulse(this.sleepLock);
        }
    }

    public override string ToString() => this.Name.Name;
}
