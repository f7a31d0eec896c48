using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory.Lkmm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Memory;

/// <summary>
/// The port under the Linux-kernel memory model: every <see cref="SharedVar{T}"/> access goes
/// through an <see cref="LkmmMachine"/> (WEAK-MEMORY.md §3), so a load may return an older store
/// when LKMM allows it. Every such decision is <see cref="IExecutionControl.Choose"/>: under Coyote
/// a controlled choice, recorded in the schedule and replayed exactly. One instance per kernel
/// (per iteration); not thread-safe, like the machine (Coyote runs one step at a time).
/// <para>
/// CPUs: a dense id per kernel task (<see cref="KernelWorld.Current"/>), 0 for code that runs
/// outside any task (the scenario's setup). A task's first access is preceded by a strong fence
/// on the setup context and on the task: creating a task (kernel_clone, wake_up_new_task) orders
/// everything its creator did before it, and the scenarios create their tasks from the setup.
/// </para>
/// <para>
/// Locations: the <see cref="SharedVar{T}"/> itself (reference identity), registered with its
/// current <see cref="SharedVar{T}.Cell"/> when first accessed (no access has happened yet, so
/// that is its initial value). Values are kept boxed by the machine. After every store,
/// <see cref="SharedVar{T}.Cell"/> is set to the coherence-latest value, which is what
/// <see cref="SharedVar{T}.Peek"/> and the trace show.
/// </para>
/// <para>
/// Orderings: <see cref="MemoryOrder.Plain"/> is treated as <see cref="MemoryOrder.Once"/> by the
/// machine; a plain access that races is reported instead (<see cref="LkmmRaceDetector{TSite}"/>, a
/// <see cref="DataRace"/> event), except inside a KCSAN atomic section
/// (<see cref="TaskStruct.KcsanAtomicNesting"/>), where it counts as marked. <see cref="MemoryOrder.Consume"/>
/// (rcu_dereference) is treated as an acquire load: LKMM orders only the loads whose address
/// depends on it (<c>addr</c> in <c>ppo</c>), and the port does not carry the pointer's view to
/// those loads, so this orders more than LKMM does: it can miss a reordering of an unrelated
/// later load, never report one LKMM forbids.
/// </para>
/// </summary>
public sealed class LkmmMemoryModel : IMemoryModel
{
    /// <summary>
    /// The machine's defaults with <see cref="LkmmOptions.RmwSequences"/> on: an RMW's message carries
    /// the view of the message it read, so an acquire that reads a chain of RMWs (rwsem's atomic_or
    /// of RWSEM_FLAG_WAITERS, then its try_cmpxchg_acquire) synchronises with the release at the
    /// chain's start. That is the proposed rmw-sequence of LKMM, which every architecture provides
    /// and the kernel's locking code relies on; without it the correct rwsem loses its owner.
    /// </summary>
    public static readonly LkmmOptions PortOptions = LkmmOptions.Default with { RmwSequences = true };

    private readonly LkmmMachine machine;
    private readonly HashSet<object> known = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<TaskStruct, int> cpus = new(ReferenceEqualityComparer.Instance);
    private readonly LkmmRaceDetector<Site> races;
    private readonly HashSet<object> raced = new(ReferenceEqualityComparer.Instance);

    /// <summary>The task name of each CPU id (0: the scenario's setup, which traces call "main").</summary>
    private readonly List<ThreadName> cpuNames = [TaskStruct.Setup];

    /// <summary>
    /// <paramref name="recorder"/>: the trace being recorded (replay), whose next step index each
    /// store's message remembers, so a load that missed it can name its step; null while exploring.
    /// </summary>
    public LkmmMemoryModel(IExecutionControl control, LkmmOptions? options = null, ITraceSink? recorder = null)
    {
        this.machine = new LkmmMachine(options ?? PortOptions, new ControlChoice(control));
        this.races = new LkmmRaceDetector<Site>(this.machine);
        if (recorder is not null)
        {
            this.machine.Stamp = () => recorder.Count; // the store is recorded right after the model performs it
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<UnseenStore>? LastReadMissed { get; private set; }

    public T Load<T>(SharedVar<T> location, MemoryOrder order)
    {
        var cpu = this.CurrentCpu();
        this.Register(location);
        var value = this.Read(location, this.machine.Load(cpu, location, Machine(order)));
        this.CheckRace(location, cpu, order, loads: true, stores: false);
        return value;
    }

    public void Store<T>(SharedVar<T> location, T value, MemoryOrder order)
    {
        var cpu = this.CurrentCpu();
        this.Register(location);
        this.machine.Store(cpu, location, value, Machine(order));
        location.Cell = (T)this.machine.FinalValue(location)!;
        this.CheckRace(location, cpu, order, loads: false, stores: true);
    }

    public T Exchange<T>(SharedVar<T> location, Func<T, T> update, MemoryOrder order) =>
        this.ExchangeIf(
            location,
            (T old, out T updated) =>
            {
                updated = update(old);
                return true;
            },
            order);

    /// <summary>
    /// The machine's <see cref="LkmmMachine.ReadModifyWrite"/>, which asks <paramref name="update"/>
    /// about every message it could read; <paramref name="update"/> is then called once more with
    /// the value it did read, so the caller's closure ends in the state of that one.
    /// </summary>
    public T ExchangeIf<T>(SharedVar<T> location, RmwUpdate<T> update, MemoryOrder order)
    {
        var cpu = this.CurrentCpu();
        this.Register(location);
        var read = this.machine.ReadModifyWrite(cpu, location, Machine(order), (object? old, out object? updated) =>
        {
            var stores = update((T)old!, out var value);
            updated = value;
            return stores;
        });
        var result = this.Read(location, read);
        var stored = update(result, out _);
        location.Cell = (T)this.machine.FinalValue(location)!;
        this.CheckRace(location, cpu, order, loads: true, stores: stored);
        return result;
    }

    /// <summary>smp_wmb / smp_rmb / smp_mb on the current CPU (<see cref="LkmmMachine.Fence"/>).</summary>
    public void Fence(MemoryBarrier barrier) => this.machine.Fence(this.CurrentCpu(), barrier);

    /// <summary>
    /// spin_lock(): <see cref="LkmmMachine.Lock"/> on the lock object as its lock word (acquire, and
    /// LKMM's po-unlock-lock-po). The monitor is already held, so the machine's lock word is unlocked.
    /// </summary>
    public void SpinLock(object lockObject)
    {
        var cpu = this.CurrentCpu();
        if (this.known.Add(lockObject))
        {
            this.machine.Initialize(lockObject, 0L);
        }

        this.machine.Lock(cpu, lockObject);
    }

    /// <summary>spin_unlock(): <see cref="LkmmMachine.Unlock"/> (a release store that remembers the stores before it).</summary>
    public void SpinUnlock(object lockObject) => this.machine.Unlock(this.CurrentCpu(), lockObject);

    /// <summary>rcu_read_lock(): <see cref="LkmmMachine.RcuReadLock"/> (the outermost one sees every ended grace period's start view).</summary>
    public void RcuReadLock() => this.machine.RcuReadLock(this.CurrentCpu());

    /// <summary>rcu_read_unlock(): <see cref="LkmmMachine.RcuReadUnlock"/>.</summary>
    public void RcuReadUnlock() => this.machine.RcuReadUnlock(this.CurrentCpu());

    /// <summary>call_rcu(): <see cref="LkmmMachine.CallRcu"/>; the view is the callback's grace period.</summary>
    public object? CallRcu() => this.machine.CallRcu(this.CurrentCpu());

    /// <summary>The callback runs: <see cref="LkmmMachine.RcuCallbackRuns"/> on the CPU that runs it.</summary>
    public void RcuCallback(object? gracePeriod) =>
        this.machine.RcuCallbackRuns(this.CurrentCpu(), gracePeriod as LkmmView ?? throw new ArgumentException("not a grace period of this model", nameof(gracePeriod)));

    /// <summary>
    /// wake_up_process(): a full barrier before the wake-up (Documentation/memory-barriers.txt,
    /// "SLEEP AND WAKE-UP FUNCTIONS": a wake-up that wakes a task implies smp_mb(); try_to_wake_up()'s
    /// smp_mb__after_spinlock()).
    /// </summary>
    public void WakeUp() => this.machine.Fence(this.CurrentCpu(), MemoryBarrier.Mb);

    /// <summary>
    /// The woken task: a full barrier after it sees the wake-up (set_current_state()'s smp_store_mb()
    /// pairs with the waker's barrier), so it sees every store the waker made before waking it.
    /// </summary>
    public void Woken() => this.machine.Fence(this.CurrentCpu(), MemoryBarrier.Mb);

    /// <summary>The value a load or RMW read returned; notes the newer stores it did not see (<see cref="LastReadMissed"/>).</summary>
    private T Read<T>(SharedVar<T> location, LkmmLoad load)
    {
        this.LastReadMissed = load.Unseen?.Select(m => new UnseenStore(
            m.Writer < 0 ? new ThreadName("initial value") : this.cpuNames[m.Writer],
            location.Format((T)m.Value!),
            m.Stamp as int?)).ToList();
        return (T)load.Value!;
    }

    /// <summary>rcu_dereference is an acquire here (see the class comment); Plain is Once.</summary>
    private static MemoryOrder Machine(MemoryOrder order) => order switch
    {
        MemoryOrder.Consume => MemoryOrder.Acquire,
        MemoryOrder.Plain => MemoryOrder.Once,
        _ => order,
    };

    /// <summary>
    /// The data-race check of the access just made (<see cref="LkmmRaceDetector{TSite}"/>). A race
    /// is reported as a <see cref="DataRace"/> event, once per location per iteration (the
    /// NoDataRace invariant fails on it; other monitors ignore it).
    /// </summary>
    private void CheckRace<T>(SharedVar<T> location, int cpu, MemoryOrder order, bool loads, bool stores)
    {
        var task = KernelWorld.CurrentTaskOrNull;
        var access = new LkmmAccess(loads, stores, order == MemoryOrder.Plain && task is not { KcsanAtomicNesting: > 0 });
        var site = new Site(task?.Name ?? TaskStruct.Setup, task?.FunctionName ?? "(setup)", location.Owner.Name, location.Field, access, order, location.World.Recorder?.Count);
        if (this.races.Access(cpu, location, access, site) is { } race && this.raced.Add(location))
        {
            location.World.Emit(new DataRace(site.Thread, site.Describe(), race.Site.Describe()));
        }
    }

    private int CurrentCpu()
    {
        var task = KernelWorld.CurrentTaskOrNull;
        if (task is null)
        {
            return 0;
        }

        if (!this.cpus.TryGetValue(task, out var cpu))
        {
            cpu = this.cpus.Count + 1;
            this.cpus[task] = cpu;
            this.cpuNames.Add(task.Name);
            this.machine.Fence(0, MemoryBarrier.Mb);
            this.machine.Fence(cpu, MemoryBarrier.Mb);
        }

        return cpu;
    }

    private void Register<T>(SharedVar<T> location)
    {
        if (this.known.Add(location))
        {
            this.machine.Initialize(location, location.Cell);
        }
    }

    /// <summary>
    /// An access as the data-race check remembers it: the names are taken at the access (a
    /// recycled VMA takes a new name), the strings built only for a report.
    /// </summary>
    private readonly record struct Site(ThreadName Thread, string Function, string Owner, string Field, LkmmAccess Access, MemoryOrder Order, int? Step)
    {
        public RacingAccess Describe() => new(this.Thread, this.Op(), $"{this.Owner}->{this.Field}", this.Function, this.Step);

        /// <summary>The access in the kernel's terms; a marked one by its ordering (the trace step shows its exact spelling).</summary>
        private string Op() => this.Access switch
        {
            { Plain: true, Stores: true } => "store",
            { Plain: true } => "load",
            { Loads: true, Stores: true } => "atomic RMW",
            { Stores: true } => this.Order switch
            {
                MemoryOrder.Release => "release store",
                MemoryOrder.Relaxed => "atomic_set",
                _ => "WRITE_ONCE",
            },
            _ => this.Order switch
            {
                MemoryOrder.Acquire => "smp_load_acquire",
                MemoryOrder.Consume => "rcu_dereference",
                MemoryOrder.Relaxed => "atomic_read",
                _ => "READ_ONCE",
            },
        };
    }

    /// <summary>The machine's choices are the execution's (Coyote's controlled generator).</summary>
    private sealed class ControlChoice(IExecutionControl control) : ILkmmChoice
    {
        public int Choose(int count) => control.Choose(count);
    }
}
