using System.Numerics;
using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Implementation.Memory;

/// <summary>
/// One shared kernel location (a field of mm_struct, vm_area_struct, rw_semaphore, a tree slot).
/// Every access is a scheduling point of the controlled scheduler, checks that the owning object
/// has not been freed (KASAN), carries its <see cref="MemoryOrder"/> to the memory model, and is
/// recorded for the readable trace. The value itself lives in <see cref="Cell"/>, which only the
/// memory model touches.
/// </summary>
public class SharedVar<T>
{
    private readonly KernelWorld world;
    private readonly Func<T, string> format;

    public SharedVar(KernelWorld world, KernelObject owner, string field, T initial, Func<T, string>? format = null)
    {
        this.world = world;
        this.Id = world.NewLocation();
        this.Owner = owner;
        this.Field = field;
        this.Cell = initial;
        this.format = format ?? (v => v?.ToString() ?? "NULL");
    }

    /// <summary>The location's number in its kernel (<see cref="IStepFootprint"/>).</summary>
    public int Id { get; }

    /// <summary>The object this location belongs to (freed together with it).</summary>
    public KernelObject Owner { get; }

    /// <summary>The C field name, e.g. <c>vm_lock_seq</c>.</summary>
    public string Field { get; }

    /// <summary>Kernel spelling of the location, e.g. <c>vma1->vm_lock_seq</c>.</summary>
    public string Name => $"{this.Owner.Name}->{this.Field}";

    /// <summary>Called after every store with the new value (VMA fields report writes to the monitors).</summary>
    public Action<T>? AfterStore { get; init; }

    /// <summary>
    /// Called after a load that returned an older store than the coherence-latest (only a weak
    /// memory model does that), with the value and the newer stores it did not see: VMA fields
    /// report such loads to the monitors.
    /// </summary>
    public Action<T, IReadOnlyList<Spec.UnseenStore>>? AfterOlderStoreLoaded { get; init; }

    /// <summary>The stored value; touched only by <see cref="IMemoryModel"/> implementations.</summary>
    internal T Cell { get; set; }

    /// <summary>The kernel this location belongs to.</summary>
    public KernelWorld World => this.world;

    /// <summary>A plain C load (v6.4's <c>vma->vm_lock_seq</c>).</summary>
    public T Plain() => this.Load(MemoryOrder.Plain, "load");

    /// <summary>A plain C store.</summary>
    public void SetPlain(T value) => this.Store(value, MemoryOrder.Plain, "store");

    /// <summary>READ_ONCE(x).</summary>
    public T ReadOnce() => this.Load(MemoryOrder.Once, "READ_ONCE");

    /// <summary>WRITE_ONCE(x, v).</summary>
    public void WriteOnce(T value) => this.Store(value, MemoryOrder.Once, "WRITE_ONCE");

    /// <summary>smp_load_acquire(&amp;x).</summary>
    public T LoadAcquire() => this.Load(MemoryOrder.Acquire, "smp_load_acquire");

    /// <summary>smp_store_release(&amp;x, v).</summary>
    public void StoreRelease(T value) => this.Store(value, MemoryOrder.Release, "smp_store_release");

    /// <summary>rcu_dereference(p).</summary>
    public T RcuDereference() => this.Load(MemoryOrder.Consume, "rcu_dereference");

    /// <summary>rcu_assign_pointer(p, v).</summary>
    public void RcuAssignPointer(T value) => this.Store(value, MemoryOrder.Release, "rcu_assign_pointer");

    /// <summary>A load with the given ordering, spelled as the kernel spells it (plain, READ_ONCE, smp_load_acquire).</summary>
    public T Read(MemoryOrder order) => this.Load(order, order switch
    {
        MemoryOrder.Plain => "load",
        MemoryOrder.Acquire => "smp_load_acquire",
        _ => "READ_ONCE",
    });

    /// <summary>A store with the given ordering (plain, WRITE_ONCE, smp_store_release).</summary>
    public void Write(T value, MemoryOrder order) => this.Store(value, order, order switch
    {
        MemoryOrder.Plain => "store",
        MemoryOrder.Release => "smp_store_release",
        _ => "WRITE_ONCE",
    });

    /// <summary>The value without a scheduling point or a record: for assertions' messages only.</summary>
    public T Peek() => this.Cell;

    public string Format(T value) => this.format(value);

    protected T Load(MemoryOrder order, string op)
    {
        this.Before(AccessKind.Load, op);
        var value = this.world.Memory.Load(this, order);
        var missed = this.world.Memory.LastReadMissed;
        this.Record(op, value, missed);
        if (missed is not null)
        {
            this.AfterOlderStoreLoaded?.Invoke(value, missed);
        }

        return value;
    }

    protected void Store(T value, MemoryOrder order, string op)
    {
        this.Before(AccessKind.Store, op);
        this.world.Memory.Store(this, value, order);
        this.Record(op, value);
        this.AfterStore?.Invoke(value);
    }

    protected T ReadModifyWrite(Func<T, T> update, MemoryOrder order, string op)
    {
        this.Before(AccessKind.ReadModifyWrite, op);
        var old = this.world.Memory.Exchange(this, update, order);
        this.RecordUpdate(op, old, this.world.Memory.LastReadMissed);
        this.AfterStore?.Invoke(this.Cell);
        return old;
    }

    /// <summary>A read-modify-write that may not store (<see cref="IMemoryModel.ExchangeIf"/>); recorded as <see cref="ReadModifyWrite"/> is.</summary>
    protected T ReadModifyWriteIf(RmwUpdate<T> update, MemoryOrder order, string op)
    {
        this.Before(AccessKind.ReadModifyWrite, op);
        var old = this.world.Memory.ExchangeIf(this, update, order);
        this.RecordUpdate(op, old, this.world.Memory.LastReadMissed);
        this.AfterStore?.Invoke(this.Cell);
        return old;
    }

    /// <summary>Records an access that left <paramref name="value"/> (a load's or a store's), when a trace is recorded; else builds nothing.</summary>
    private protected void Record(string op, T value, IReadOnlyList<Spec.UnseenStore>? unseen = null)
    {
        if (this.world.Recording)
        {
            this.world.RecordAccess(op, this.Name, this.format(value), unseen);
        }
    }

    /// <summary>Records a read-modify-write from <paramref name="old"/> to the value now stored, when a trace is recorded.</summary>
    private void RecordUpdate(string op, T old, IReadOnlyList<Spec.UnseenStore>? unseen)
    {
        if (this.world.Recording)
        {
            this.world.RecordAccess(op, this.Name, $"{this.format(old)} -> {this.format(this.Cell)}", unseen);
        }
    }

    private protected void Before(AccessKind kind, string op)
    {
        this.world.Control.Interleave();
        this.world.Footprint?.Touch(this.Id, kind != AccessKind.Load);
        this.Owner.CheckAlive(kind, op, this.Field);
    }
}

/// <summary>
/// atomic_t / atomic_long_t: the atomic operations of include/linux/atomic, each with the
/// ordering its kernel suffix names (_relaxed, _acquire, _release, none = fully ordered).
/// </summary>
public sealed class AtomicVar<T> : SharedVar<T>
    where T : struct, IBinaryInteger<T>
{
    public AtomicVar(KernelWorld world, KernelObject owner, string field, T initial, Func<T, string>? format = null)
        : base(world, owner, field, initial, format)
    {
    }

    /// <summary>An atomic read-modify-write under its kernel name; returns the old value.</summary>
    public T Update(Func<T, T> update, MemoryOrder order, string kernelName) => this.ReadModifyWrite(update, order, kernelName);

    /// <summary>An atomic read-modify-write that may not store (<paramref name="update"/> returns false), under its kernel name; returns the old value.</summary>
    public T UpdateIf(RmwUpdate<T> update, MemoryOrder order, string kernelName) => this.ReadModifyWriteIf(update, order, kernelName);

    /// <summary>atomic_read().</summary>
    public T AtomicRead() => this.Load(MemoryOrder.Relaxed, "atomic_read");

    /// <summary>atomic_set().</summary>
    public void AtomicSet(T value) => this.Store(value, MemoryOrder.Relaxed, "atomic_set");

    /// <summary>atomic_add_return{,_acquire,_release,_relaxed}(): returns the new value.</summary>
    public T AddReturn(T delta, MemoryOrder order) =>
        this.ReadModifyWrite(v => v + delta, order, AtomicAddReturn[(int)order]) + delta;

    /// <summary>atomic_fetch_add{,_acquire,_release,_relaxed}(): returns the old value.</summary>
    public T FetchAdd(T delta, MemoryOrder order) =>
        this.ReadModifyWrite(v => v + delta, order, AtomicFetchAdd[(int)order]);

    /// <summary>atomic_add() (no return value: relaxed).</summary>
    public void Add(T delta) => this.ReadModifyWrite(v => v + delta, MemoryOrder.Relaxed, "atomic_add");

    /// <summary>atomic_or() (relaxed).</summary>
    public void Or(T bits) => this.ReadModifyWrite(v => v | bits, MemoryOrder.Relaxed, "atomic_or");

    /// <summary>
    /// atomic_try_cmpxchg{,_acquire,_release,_relaxed}(v, &amp;old, new): stores <paramref name="desired"/>
    /// if the value is <paramref name="expected"/>; otherwise updates <paramref name="expected"/> to
    /// the value seen. Returns whether it stored.
    /// </summary>
    public bool TryCmpxchg(ref T expected, T desired, MemoryOrder order)
    {
        var want = expected;
        var old = this.ReadModifyWriteIf(
            (T v, out T updated) =>
            {
                updated = desired;
                return v == want;
            },
            order,
            AtomicTryCmpxchg[(int)order]);
        if (old == want)
        {
            return true;
        }

        expected = old;
        return false;
    }

    /// <summary>
    /// A user-mode load or store (<paramref name="update"/> null: a load) through a cached
    /// translation: it happens only if <paramref name="translationValid"/> still holds at the
    /// access, atomically with it (an instruction and a TLB shootdown do not interleave). Returns
    /// whether it happened; <paramref name="value"/> is the value loaded or the value before the store.
    /// </summary>
    public bool TryUserAccess(Func<bool> translationValid, Func<T, T>? update, string instruction, out T value)
    {
        this.Before(update is null ? AccessKind.Load : AccessKind.ReadModifyWrite, instruction);
        var happened = false;

        // User memory is kept sequentially consistent under every model: a strong fence on each
        // side of the access (not recorded; nothing under sequential consistency). The invariants
        // on user data (NoLostWrite) are about the kernel losing a store (TLB, copy-on-write), not
        // about user threads that race without synchronising.
        this.World.Memory.Fence(MemoryBarrier.Mb);
        var old = this.World.Memory.ExchangeIf(
            this,
            (T v, out T updated) =>
            {
                happened = translationValid();
                updated = happened && update is not null ? update(v) : v;
                return happened && update is not null;
            },
            MemoryOrder.Relaxed);
        this.World.Memory.Fence(MemoryBarrier.Mb);
        if (this.World.Recording)
        {
            this.World.RecordAccess(
                happened ? instruction : $"{instruction}: TLB entry flushed, no access",
                this.Name,
                happened && update is not null ? $"{this.Format(old)} -> {this.Format(this.Cell)}" : this.Format(old));
        }
        if (happened && update is not null)
        {
            this.AfterStore?.Invoke(this.Cell);
        }

        value = old;
        return happened;
    }

    /// <summary>
    /// Each ordering's kernel name of an atomic (<c>atomic_add_return_acquire</c>), indexed by
    /// <see cref="MemoryOrder"/>: built once, not at every access.
    /// </summary>
    private static readonly string[] AtomicAddReturn = Suffixed("atomic_add_return");

    private static readonly string[] AtomicFetchAdd = Suffixed("atomic_fetch_add");

    private static readonly string[] AtomicTryCmpxchg = Suffixed("atomic_try_cmpxchg");

    private static string[] Suffixed(string name) => [.. Enum.GetValues<MemoryOrder>().Select(order => name + Suffix(order))];

    private static string Suffix(MemoryOrder order) => order switch
    {
        MemoryOrder.Acquire => "_acquire",
        MemoryOrder.Release => "_release",
        MemoryOrder.Relaxed => "_relaxed",
        _ => string.Empty,
    };
}
