namespace VmaLockVerify.Implementation.Memory;

/// <summary>
/// Where the values of shared locations live. The port never touches a shared value except through
/// a <see cref="SharedVar{T}"/>, which asks the model. The models are
/// <see cref="SequentialConsistency"/> (the default), its locked variant for stress mode, and
/// <see cref="LkmmMemoryModel"/>, which uses the <see cref="MemoryOrder"/> of each access.
/// </summary>
public interface IMemoryModel
{
    /// <summary>Returns the value a load with this ordering observes.</summary>
    T Load<T>(SharedVar<T> location, MemoryOrder order);

    /// <summary>Performs a store with this ordering.</summary>
    void Store<T>(SharedVar<T> location, T value, MemoryOrder order);

    /// <summary>Performs an atomic read-modify-write; returns the old value.</summary>
    T Exchange<T>(SharedVar<T> location, Func<T, T> update, MemoryOrder order);

    /// <summary>
    /// A read-modify-write that may decide not to store (a failed cmpxchg, refcount_inc_not_zero at
    /// 0): <paramref name="update"/> returns false for no store, and the access is then only a read
    /// (LKMM: a failed cmpxchg is a relaxed read, Documentation/litmus-tests/atomic/cmpxchg-fail-unordered-1.litmus).
    /// Returns the old value.
    /// </summary>
    T ExchangeIf<T>(SharedVar<T> location, RmwUpdate<T> update, MemoryOrder order);

    /// <summary>A stand-alone barrier (smp_wmb, smp_rmb, smp_mb).</summary>
    void Fence(MemoryBarrier barrier);

    /// <summary>
    /// When the latest <see cref="Load{T}"/>, <see cref="Exchange{T}"/> or <see cref="ExchangeIf{T}"/>
    /// did not return the coherence-latest store: the newer stores it did not see, oldest first.
    /// Null when it returned the latest, and always under sequential consistency. Asked by
    /// <see cref="SharedVar{T}"/> right after the access, with no scheduling point in between.
    /// </summary>
    IReadOnlyList<Spec.UnseenStore>? LastReadMissed => null;

    /// <summary>
    /// spin_lock(<paramref name="lockObject"/>) has just taken the lock (the port's spinlocks are
    /// controlled monitors, which give mutual exclusion; this gives the lock's ordering). Nothing
    /// to do under sequential consistency.
    /// </summary>
    void SpinLock(object lockObject)
    {
    }

    /// <summary>spin_unlock(<paramref name="lockObject"/>) is about to release the lock.</summary>
    void SpinUnlock(object lockObject)
    {
    }

    /// <summary>rcu_read_lock() (nested ones too).</summary>
    void RcuReadLock()
    {
    }

    /// <summary>rcu_read_unlock() (nested ones too).</summary>
    void RcuReadUnlock()
    {
    }

    /// <summary>call_rcu() queues a callback; returns what <see cref="RcuCallback"/> is then given.</summary>
    object? CallRcu() => null;

    /// <summary>A callback queued by <see cref="CallRcu"/> (which returned <paramref name="gracePeriod"/>) is about to run after its grace period.</summary>
    void RcuCallback(object? gracePeriod)
    {
    }

    /// <summary>wake_up_process() is about to wake a sleeping task (try_to_wake_up()).</summary>
    void WakeUp()
    {
    }

    /// <summary>The current task has been woken by a <see cref="WakeUp"/> and returns from schedule().</summary>
    void Woken()
    {
    }
}

/// <summary>A conditional read-modify-write's update: false for no store.</summary>
public delegate bool RmwUpdate<T>(T old, out T updated);

/// <summary>The kernel's stand-alone memory barriers.</summary>
public enum MemoryBarrier
{
    /// <summary>smp_wmb(): orders earlier stores before later stores.</summary>
    Wmb,

    /// <summary>smp_rmb(): orders earlier loads before later loads.</summary>
    Rmb,

    /// <summary>smp_mb(): orders everything.</summary>
    Mb,
}

/// <summary>Every access takes effect at once, in program order: the model Coyote's interleavings explore.</summary>
public sealed class SequentialConsistency : IMemoryModel
{
    public static readonly SequentialConsistency Instance = new();

    public T Load<T>(SharedVar<T> location, MemoryOrder order) => location.Cell;

    public void Store<T>(SharedVar<T> location, T value, MemoryOrder order) => location.Cell = value;

    public T Exchange<T>(SharedVar<T> location, Func<T, T> update, MemoryOrder order)
    {
        var old = location.Cell;
        location.Cell = update(old);
        return old;
    }

    public T ExchangeIf<T>(SharedVar<T> location, RmwUpdate<T> update, MemoryOrder order)
    {
        var old = location.Cell;
        if (update(old, out var updated))
        {
            location.Cell = updated;
        }

        return old;
    }

    /// <summary>Nothing to order: every access is already in program order.</summary>
    public void Fence(MemoryBarrier barrier)
    {
    }
}

/// <summary>
/// Sequential consistency on real threads (stress mode): every load, store and read-modify-write
/// takes one lock, so atomics are atomic and all threads see one order of all accesses. Each
/// access gets the next number of that order, and each thread remembers the number of its latest
/// access: the port reports a protocol event right after the access it describes, so that number
/// places the event in the true order even when the reporting thread is delayed (see
/// <c>DirectSink</c>). Under Coyote no two accesses overlap and <see cref="SequentialConsistency"/>
/// needs none of this.
/// </summary>
public sealed class LockedSequentialConsistency : IMemoryModel
{
    private readonly object gate = new();
    private readonly ThreadLocal<long> latest = new();
    private long clock;

    /// <summary>The order number of the calling thread's latest access (0 before its first).</summary>
    public long LatestAccessOfThisThread => this.latest.Value;

    public T Load<T>(SharedVar<T> location, MemoryOrder order)
    {
        lock (this.gate)
        {
            this.latest.Value = ++this.clock;
            return location.Cell;
        }
    }

    public void Store<T>(SharedVar<T> location, T value, MemoryOrder order)
    {
        lock (this.gate)
        {
            this.latest.Value = ++this.clock;
            location.Cell = value;
        }
    }

    public T Exchange<T>(SharedVar<T> location, Func<T, T> update, MemoryOrder order)
    {
        lock (this.gate)
        {
            this.latest.Value = ++this.clock;
            var old = location.Cell;
            location.Cell = update(old);
            return old;
        }
    }

    public T ExchangeIf<T>(SharedVar<T> location, RmwUpdate<T> update, MemoryOrder order)
    {
        lock (this.gate)
        {
            this.latest.Value = ++this.clock;
            var old = location.Cell;
            if (update(old, out var updated))
            {
                location.Cell = updated;
            }

            return old;
        }
    }

    public void Fence(MemoryBarrier barrier)
    {
    }
}
