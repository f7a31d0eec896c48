using System.Runtime.CompilerServices;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Kernel;

/// <summary>
/// One booted kernel for one iteration: its threads, RCU, memory model, and the observers that
/// judge it. Everything in it is created fresh per iteration, so iterations share nothing.
/// </summary>
public sealed class KernelWorld
{
    private static readonly AsyncLocal<TaskStruct?> CurrentTask = new();
    private readonly List<IProtocolObserver> observers = [];
    private readonly Dictionary<string, int> names = new(StringComparer.Ordinal);
    private ulong lastPfn;
    private int lastLocation = StepLocations.FirstShared;

    public KernelWorld(IExecutionControl control, ITraceSink? recorder = null, IMemoryModel? memory = null)
    {
        this.Control = control;
        this.Recorder = recorder;
        this.Memory = memory ?? SequentialConsistency.Instance;
        this.Rcu = new Rcu(this);
    }

    public IExecutionControl Control { get; }

    /// <summary>Where each step's accesses are reported (a bounded-exhaustive search); null: nowhere.</summary>
    public IStepFootprint? Footprint { get; init; }

    /// <summary>A number for a new shared location, for <see cref="Footprint"/>.</summary>
    internal int NewLocation() => ++this.lastLocation;

    public IMemoryModel Memory { get; }

    public ITraceSink? Recorder { get; }

    /// <summary>Whether a trace is being recorded (a replay): only then is any text of a step built.</summary>
    public bool Recording => this.Recorder is not null;

    public Rcu Rcu { get; }

    /// <summary>Whether kernel code runs in a task (false while a scenario sets up its address spaces).</summary>
    public bool InTask => CurrentTask.Value is not null;

    /// <summary>
    /// Inside <c>lock (lockObject)</c>, the spinlock's ordering for the memory model:
    /// <c>using var held = world.SpinHeld(lockObject);</c> as the block's first statement.
    /// </summary>
    public SpinHeld SpinHeld(object lockObject)
    {
        this.Memory.SpinLock(lockObject);
        return new SpinHeld(this.Memory, lockObject);
    }

    /// <summary>The task running on this thread of control, null outside any (the memory model's CPU id).</summary>
    internal static TaskStruct? CurrentTaskOrNull => CurrentTask.Value;

    /// <summary><c>current</c>: the task this code runs in.</summary>
    public TaskStruct Current => CurrentTask.Value ?? throw new InvalidOperationException("kernel code ran outside a kernel task");

    public void AddObserver(IProtocolObserver observer) => this.observers.Add(observer);

    /// <summary>Starts a thread of the process owning <paramref name="mm"/> (null: a kernel thread) running <paramref name="body"/>.</summary>
    public Task Spawn(ThreadName name, MmName? mm, Action body) => Task.Run(() => this.RunAs(name, mm, body));

    /// <summary>Runs <paramref name="body"/> as the named task on the calling thread.</summary>
    public void RunAs(ThreadName name, MmName? mm, Action body)
    {
        var previous = CurrentTask.Value;
        CurrentTask.Value = new TaskStruct(this, name, mm);
        try
        {
            body();
        }
        catch (Exception) when (this.StopRecording())
        {
            throw; // unreachable: the filter only stops the recording
        }
        finally
        {
            CurrentTask.Value = previous;
        }
    }

    /// <summary>
    /// An exception leaving a kernel task ends the run (a BUG, or Coyote tearing the iteration
    /// down after a bug or a deadlock). Called from an exception filter, so before the task's
    /// function scopes unwind: their "returns" did not happen in the kernel and are not recorded.
    /// </summary>
    private bool StopRecording()
    {
        this.Recorder?.Stop();
        return false;
    }

    /// <summary>Reports a protocol event to every observer, atomically with the effect it describes.</summary>
    public void Emit(ProtocolEvent e)
    {
        if (this.Recording)
        {
            this.Record(TraceStepKind.Event, e.Describe(), e: e);
        }

        this.Notify(e);
    }

    /// <summary>
    /// Reports an event to the observers without recording it in the trace: for bookkeeping events
    /// (lockdep's acquire/release of every sleeping lock) that the kernel functions around them
    /// already show.
    /// </summary>
    public void Notify(ProtocolEvent e)
    {
        this.Footprint?.Touch(StepLocations.Events, write: true);
        foreach (var observer in this.observers)
        {
            observer.Observe(e);
        }
    }

    /// <summary>
    /// Tells the observers a fact of the setup, before any thread runs (what the address space
    /// already holds): not a step, so it is neither recorded nor counted in a step's footprint.
    /// </summary>
    public void NotifyAtBoot(ProtocolEvent e)
    {
        foreach (var observer in this.observers)
        {
            observer.Observe(e);
        }
    }

    /// <summary>
    /// might_sleep(), include/linux/kernel.h: <paramref name="call"/> may block. Inside an RCU
    /// read-side critical section that is a bug the kernel reports under CONFIG_DEBUG_ATOMIC_SLEEP;
    /// here it is an event for the monitors (reported only then, so it changes nothing else).
    /// </summary>
    public void MightSleep(string call)
    {
        if (CurrentTask.Value is { RcuNesting: > 0 } task)
        {
            this.Emit(new MightSleepUnderRcu(task.Name, call, task.FunctionName));
        }
    }

    /// <summary>BUG() / VM_BUG_ON(): a kernel assertion failed.</summary>
    public void Bug(string message)
    {
        this.Recorder?.Stop();
        this.Control.Fail($"kernel BUG: {message}");
        throw new KernelBugException(message); // BUG() does not return
    }

    /// <summary>VM_BUG_ON(condition) with the kernel's spelling of the condition.</summary>
    public void VmBugOn(bool condition, string assertion)
    {
        if (condition)
        {
            this.Bug($"{assertion} in {this.Current.FunctionName} ({this.Current.Name})");
        }
    }

    /// <summary>smp_wmb() / smp_rmb() / smp_mb(): a barrier for the memory model, recorded in traces.</summary>
    public void Barrier(MemoryBarrier barrier)
    {
        this.Memory.Fence(barrier);
        this.Record(TraceStepKind.Access, $"smp_{barrier.ToString().ToLowerInvariant()}()");
    }

    /// <summary>A fresh object name: "vma3" after "vma1" and "vma2" were handed out.</summary>
    public string NewName(string prefix)
    {
        this.Footprint?.Touch(StepLocations.Allocator, write: true);
        var n = this.names.GetValueOrDefault(prefix) + 1;
        this.names[prefix] = n;
        return $"{prefix}{n}";
    }

    /// <summary>A fresh VMA name: "vma3" after "vma1" and "vma2" were handed out.</summary>
    public VmaName NewVmaName() => new(this.NewName("vma"));

    /// <summary>alloc_page(): a fresh page frame number (the allocator is not part of the model).</summary>
    public ulong AllocPage()
    {
        this.Footprint?.Touch(StepLocations.Allocator, write: true);
        return ++this.lastPfn;
    }

    /// <summary>count_vm_vma_lock_event(name) (VMA_LOCK_SUCCESS, _ABORT, _MISS, _RETRY): shown in traces where it happens.</summary>
    public void CountVmEvent(string name) => this.Record(TraceStepKind.Access, $"count_vm_vma_lock_event({name})");

    /// <summary>A controlled choice that stands for a timeout or another outside event.</summary>
    public bool Chance(string what, int oneIn) => this.TakeChance(oneIn, what);

    /// <summary>A controlled choice, described in the trace by an interpolated string built only while recording.</summary>
    public bool Chance([InterpolatedStringHandlerArgument("")] TraceText what, int oneIn) => this.TakeChance(oneIn, what.ToStringAndClear());

    private bool TakeChance(int oneIn, string what)
    {
        var taken = this.Control.Chance(oneIn);
        if (taken)
        {
            this.Record(TraceStepKind.Choice, what);
        }

        return taken;
    }

    /// <summary>Enters a kernel function: its name is on the task's stack until the scope is disposed.</summary>
    public FunctionScope Enter(string function, string arguments = "")
    {
        var task = this.Current;
        if (this.Recording)
        {
            this.Record(TraceStepKind.Enter, $"{function}({arguments})");
        }

        task.PushFunction(function);
        return new FunctionScope(this, task, function);
    }

    /// <summary>Enters a kernel function whose arguments are an interpolated string, built only while recording.</summary>
    public FunctionScope Enter(string function, [InterpolatedStringHandlerArgument("")] TraceText arguments) => this.Enter(function, arguments.ToStringAndClear());

    /// <summary>Enters a kernel function whose one argument is an mm: mmap_write_lock(mm), mmgrab(mm).</summary>
    public FunctionScope Enter(string function, MmName mm) => this.Enter(function, mm.Name);

    /// <summary>Enters a kernel function whose one argument is a VMA: vma_start_write(vma), vma_end_read(vma).</summary>
    public FunctionScope Enter(string function, VmaName vma) => this.Enter(function, vma.Name);

    /// <summary>Records an access; <paramref name="unseen"/>: the newer stores a load (or an RMW's read) did not see, when it returned an older one.</summary>
    internal void RecordAccess(string op, string location, string value, IReadOnlyList<UnseenStore>? unseen = null)
    {
        if (this.Recording)
        {
            this.Record(TraceStepKind.Access, $"{op} {location} = {value}", location, value.Split(" -> ")[^1], unseen: unseen);
        }
    }

    internal void Record(TraceStepKind kind, string text, string? location = null, string? value = null, ProtocolEvent? e = null, IReadOnlyList<UnseenStore>? unseen = null)
    {
        if (this.Recorder is { } recorder)
        {
            var task = CurrentTask.Value;
            recorder.Add(task?.Name ?? TaskStruct.Setup, task?.Depth ?? 0, kind, text, location, value, e, unseen);
        }
    }

    /// <summary>Records a step whose text is an interpolated string, built only while recording.</summary>
    internal void Record(TraceStepKind kind, [InterpolatedStringHandlerArgument("")] TraceText text)
    {
        if (this.Recording)
        {
            this.Record(kind, text.ToStringAndClear(), location: null);
        }
    }

    internal void RecordReturn(TaskStruct task, string function, string? value)
    {
        if (this.Recorder is { } recorder)
        {
            recorder.Add(task.Name, task.Depth, TraceStepKind.Return, value is null ? function : $"{function} = {value}");
        }
    }
}

/// <summary>Stops the thread that hit a kernel assertion, as BUG() does.</summary>
/// <summary>A spinlock held (<see cref="KernelWorld.SpinHeld"/>); disposing it is spin_unlock()'s ordering.</summary>
public readonly struct SpinHeld(IMemoryModel memory, object lockObject) : IDisposable
{
    public void Dispose() => memory.SpinUnlock(lockObject);
}

public sealed class KernelBugException(string message) : Exception(message);

/// <summary>The extent of one kernel function call on a task's stack.</summary>
public sealed class FunctionScope(KernelWorld world, TaskStruct task, string function) : IDisposable
{
    private string? returned;
    private bool disposed;

    /// <summary>Records the function's return value and passes it through: <c>return fn.Returns(true);</c>.</summary>
    public T Returns<T>(T value)
    {
        if (world.Recording)
        {
            this.returned = value switch
            {
                null => "NULL",
                bool b => b ? "true" : "false",
                _ => value.ToString(),
            };
        }

        return value;
    }

    public void Dispose()
    {
        if (this.disposed)
        {
            return;
        }

        this.disposed = true;
        task.PopFunction();
        world.RecordReturn(task, function, this.returned);
    }
}
