using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Locking;

/// <summary>
/// struct rw_semaphore and its operations, ported from kernel/locking/rwsem.c (v6.4): one atomic
/// count word (writer-locked bit, waiters bit, handoff bit, reader count from bit 8), fast paths by
/// atomic operations, slow paths that queue a waiter on a list under wait_lock and sleep until
/// woken. Left out: optimistic spinning on the owner (CONFIG_RWSEM_SPIN_ON_OWNER), lockdep, and
/// the reader-count overflow path. The handoff timeout (RWSEM_WAIT_TIMEOUT, jiffies) is a
/// controlled choice.
/// </summary>
public class RwSemaphore : KernelObject
{
    /// <summary>RWSEM_WRITER_LOCKED.</summary>
    public const long WriterLocked = 1L << 0;

    /// <summary>RWSEM_FLAG_WAITERS.</summary>
    public const long FlagWaiters = 1L << 1;

    /// <summary>RWSEM_FLAG_HANDOFF.</summary>
    public const long FlagHandoff = 1L << 2;

    /// <summary>RWSEM_FLAG_READFAIL (bit 63).</summary>
    public const long FlagReadFail = long.MinValue;

    /// <summary>RWSEM_READER_SHIFT.</summary>
    public const int ReaderShift = 8;

    /// <summary>RWSEM_READER_BIAS.</summary>
    public const long ReaderBias = 1L << ReaderShift;

    /// <summary>RWSEM_READER_MASK.</summary>
    public const long ReaderMask = ~(ReaderBias - 1);

    /// <summary>RWSEM_WRITER_MASK.</summary>
    public const long WriterMask = WriterLocked;

    /// <summary>RWSEM_LOCK_MASK.</summary>
    public const long LockMask = WriterMask | ReaderMask;

    /// <summary>RWSEM_READ_FAILED_MASK.</summary>
    public const long ReadFailedMask = WriterMask | FlagWaiters | FlagHandoff | FlagReadFail;

    /// <summary>A timed-out waiter may set handoff: one chance in this many per check.</summary>
    private const int HandoffChance = 4;

    private readonly object waitLock = new();
    private readonly LinkedList<Waiter> waitList = new();

    public RwSemaphore(KernelWorld world, string name, LockClass lockClass)
        : base(world, name)
    {
        this.Class = lockClass;
        this.Count = new AtomicVar<long>(world, this, "count", 0, DescribeCount);
        this.Owner = new SharedVar<RwsemOwner>(world, this, "owner", RwsemOwner.None);
    }

    /// <summary>sem->count.</summary>
    public AtomicVar<long> Count { get; }

    /// <summary>sem->owner: the writer's task, RWSEM_READER_OWNED while readers own the lock, or NULL.</summary>
    public SharedVar<RwsemOwner> Owner { get; }

    private enum WaiterType
    {
        Write,
        Read,
    }

    private enum WakeType
    {
        Any,
        Readers,
        ReadOwned,
    }

    /// <summary>Decodes a count word the way a kernel developer reads it.</summary>
    public static string DescribeCount(long count)
    {
        var parts = new List<string>();
        if ((count & WriterLocked) != 0)
        {
            parts.Add("WRITER_LOCKED");
        }

        if ((count & FlagWaiters) != 0)
        {
            parts.Add("WAITERS");
        }

        if ((count & FlagHandoff) != 0)
        {
            parts.Add("HANDOFF");
        }

        var readers = count >> ReaderShift;
        if (readers != 0)
        {
            parts.Add($"readers={readers}");
        }

        return parts.Count == 0 ? "0" : $"0x{count:x} ({string.Join("|", parts)})";
    }

    /// <summary>
    /// down_read_trylock() / __down_read_trylock(): never blocks; fails if a writer holds it or
    /// anyone waits. atomic_long_try_cmpxchg_acquire: what the holder does next is ordered after
    /// the release of the last up_write().
    /// </summary>
    public virtual bool DownReadTrylock()
    {
        using var fn = this.World.Enter("down_read_trylock", this.Name);
        var tmp = this.Count.AtomicRead();
        while ((tmp & ReadFailedMask) == 0)
        {
            if (this.Count.TryCmpxchg(ref tmp, tmp + ReaderBias, MemoryOrder.Acquire))
            {
                this.SetReaderOwned();
                this.Lockdep(LockMode.Read, trylock: true);
                return fn.Returns(true);
            }
        }

        return fn.Returns(false);
    }

    /// <summary>down_read() / __down_read(): rwsem_read_trylock, else rwsem_down_read_slowpath.</summary>
    public void DownRead()
    {
        this.World.MightSleep($"down_read({this.Name})");
        using var fn = this.World.Enter("down_read", this.Name);
        this.Lockdep(LockMode.Read, trylock: false);
        var count = this.Count.AddReturn(ReaderBias, MemoryOrder.Acquire);
        if ((count & ReadFailedMask) == 0)
        {
            this.SetReaderOwned();
            return;
        }

        this.DownReadSlowpath(count);
    }

    /// <summary>up_read() / __up_read(): releases, then wakes waiters if only the waiters bit is left.</summary>
    public void UpRead()
    {
        using var fn = this.World.Enter("up_read", this.Name);
        this.World.Notify(new LockReleasing(this.World.Current.Name, this.Name, this.Class));
        var tmp = this.Count.AddReturn(-ReaderBias, MemoryOrder.Release);
        this.World.VmBugOn(tmp < 0, $"DEBUG_RWSEMS_WARN_ON(tmp < 0) on {this.Name}: up_read without a read lock");
        if ((tmp & (LockMask | FlagWaiters)) == FlagWaiters)
        {
            this.Wake();
        }
    }

    /// <summary>down_write() / __down_write(): rwsem_write_trylock, else rwsem_down_write_slowpath.</summary>
    public void DownWrite()
    {
        this.World.MightSleep($"down_write({this.Name})");
        using var fn = this.World.Enter("down_write", this.Name);
        this.Lockdep(LockMode.Write, trylock: false);
        if (!this.WriteTrylock())
        {
            this.DownWriteSlowpath();
        }
    }

    /// <summary>rwsem_write_trylock(): cmpxchg the count from unlocked to RWSEM_WRITER_LOCKED.</summary>
    private bool WriteTrylock()
    {
        long tmp = 0;
        if (!this.Count.TryCmpxchg(ref tmp, WriterLocked, MemoryOrder.Acquire))
        {
            return false;
        }

        this.SetOwner();
        return true;
    }

    /// <summary>up_write() / __up_write().</summary>
    public void UpWrite()
    {
        using var fn = this.World.Enter("up_write", this.Name);
        this.World.Notify(new LockReleasing(this.World.Current.Name, this.Name, this.Class));
        this.World.VmBugOn(this.Owner.Peek().Task != this.World.Current, $"DEBUG_RWSEMS_WARN_ON(sem->owner != current) on {this.Name}");
        this.ClearOwner();
        var tmp = this.Count.FetchAdd(-WriterLocked, MemoryOrder.Release);
        if ((tmp & FlagWaiters) != 0)
        {
            this.Wake();
        }
    }

    /// <summary>downgrade_write() / __downgrade_write(): the write hold becomes a read hold, atomically.</summary>
    public void DowngradeWrite()
    {
        using var fn = this.World.Enter("downgrade_write", this.Name);
        var tmp = this.Count.FetchAdd(-WriterLocked + ReaderBias, MemoryOrder.Release);
        this.World.VmBugOn((tmp & WriterLocked) == 0, $"DEBUG_RWSEMS_WARN_ON(!(count & RWSEM_WRITER_LOCKED)) on {this.Name}");
        this.SetReaderOwned();
        if ((tmp & FlagWaiters) != 0)
        {
            this.DowngradeWake();
        }
    }

    /// <summary>The lock class lockdep files this semaphore under: the one its init site declares.</summary>
    public LockClass Class { get; }

    /// <summary>lock_acquire(): lockdep is told before a blocking acquisition, after a successful trylock.</summary>
    protected void Lockdep(LockMode mode, bool trylock) =>
        this.World.Notify(new LockAcquiring(this.World.Current.Name, this.Name, this.Class, mode, trylock));

    /// <summary>rwsem_is_locked(): atomic_long_read(&amp;sem->count) != 0.</summary>
    public bool IsLocked() => this.Count.AtomicRead() != 0;

    /// <summary>rwsem_down_read_slowpath(), without optimistic spinning.</summary>
    private void DownReadSlowpath(long count)
    {
        using var fn = this.World.Enter("rwsem_down_read_slowpath", this.Name);
        var adjustment = -ReaderBias;
        var rcnt = count >> ReaderShift;

        // Don't steal the lock from a sleeping writer if it is very likely reader-owned.
        var readerOwned = this.Owner.ReadOnce().IsReaderOwned;
        if (!(readerOwned && rcnt > 1 && (count & WriterLocked) == 0) && (count & (WriterLocked | FlagHandoff)) == 0)
        {
            // Reader optimistic lock stealing: our READER_BIAS is already in the count.
            this.SetReaderOwned();
            if (rcnt == 1 && (count & FlagWaiters) != 0)
            {
                var wakeQ = new List<TaskStruct>();
                lock (this.waitLock)
                {
                    using var held = this.World.SpinHeld(this.waitLock);
                    this.WaitLockTaken();
                    if (this.waitList.Count > 0)
                    {
                        this.MarkWake(WakeType.ReadOwned, wakeQ);
                    }
                }

                WakeUpQ(wakeQ);
            }

            return;
        }

        var waiter = new Waiter(this.World, this.World.Current, WaiterType.Read);
        var wake = new List<TaskStruct>();
        this.RawSpinLockWaitLock();
        if (this.waitList.Count == 0)
        {
            // Empty queue and no writer: our READER_BIAS already holds the lock.
            if ((this.Count.AtomicRead() & WriterMask) == 0)
            {
                // smp_acquire__after_ctrl_dep(): "Provide lock ACQUIRE" (LKMM: the control
                // dependency plus smp_rmb()). Given to the memory model only, not recorded, so the
                // traces saved under sequential consistency, where it does nothing, stay as they are.
                this.World.Memory.Fence(MemoryBarrier.Rmb);
                this.RawSpinUnlockWaitLock();
                this.SetReaderOwned();
                return;
            }

            adjustment += FlagWaiters;
        }

        this.waitList.AddLast(waiter);

        // We are now waiting on the lock, but no longer actively locking.
        count = this.Count.AddReturn(adjustment, MemoryOrder.Full);
        this.CondWakeWaiter(count, wake);
        this.RawSpinUnlockWaitLock();
        WakeUpQ(wake);

        // Wait to be given the lock: rwsem_mark_wake() clears waiter.task with smp_store_release().
        while (waiter.Task.LoadAcquire() is not null)
        {
            this.World.Current.Schedule();
        }
    }

    /// <summary>rwsem_down_write_slowpath(), without optimistic spinning.</summary>
    private void DownWriteSlowpath()
    {
        using var fn = this.World.Enter("rwsem_down_write_slowpath", this.Name);
        var waiter = new Waiter(this.World, this.World.Current, WaiterType.Write);
        var wake = new List<TaskStruct>();
        this.RawSpinLockWaitLock();
        this.waitList.AddLast(waiter);
        if (this.waitList.First!.Value != waiter)
        {
            this.CondWakeWaiter(this.Count.AtomicRead(), wake);
            if (wake.Count > 0)
            {
                this.RawSpinUnlockWaitLock();
                WakeUpQ(wake);
                wake.Clear();
                this.RawSpinLockWaitLock();
            }
        }
        else
        {
            this.Count.Or(FlagWaiters);
        }

        while (!this.TryWriteLock(waiter))
        {
            this.RawSpinUnlockWaitLock();
            this.World.Current.Schedule();
            this.RawSpinLockWaitLock();
        }

        this.RawSpinUnlockWaitLock();
    }

    /// <summary>rwsem_try_write_lock(): called with wait_lock held.</summary>
    private bool TryWriteLock(Waiter waiter)
    {
        var first = this.waitList.First!.Value;
        var count = this.Count.AtomicRead();
        long next;
        do
        {
            var hasHandoff = (count & FlagHandoff) != 0;
            if (hasHandoff && first.HandoffSet && waiter != first)
            {
                return false;
            }

            next = count;
            if ((count & LockMask) != 0)
            {
                // A waiter may set handoff after waiting too long (RWSEM_WAIT_TIMEOUT).
                if (hasHandoff || !this.World.Chance($"{this.Name}: rwsem wait timed out, request handoff", HandoffChance))
                {
                    return false;
                }

                next |= FlagHandoff;
            }
            else
            {
                next |= WriterLocked;
                next &= ~FlagHandoff;
                if (this.waitList.Count == 1)
                {
                    next &= ~FlagWaiters;
                }
            }
        }
        while (!this.Count.TryCmpxchg(ref count, next, MemoryOrder.Acquire));

        if ((next & FlagHandoff) != 0)
        {
            first.HandoffSet = true;
            return false;
        }

        this.waitList.Remove(waiter);
        this.SetOwner();
        return true;
    }

    /// <summary>rwsem_wake(): called by up_read/up_write when waiters are queued.</summary>
    private void Wake()
    {
        using var fn = this.World.Enter("rwsem_wake", this.Name);
        var wake = new List<TaskStruct>();
        lock (this.waitLock)
        {
            using var held = this.World.SpinHeld(this.waitLock);
            this.WaitLockTaken();
            if (this.waitList.Count > 0)
            {
                this.MarkWake(WakeType.Any, wake);
            }
        }

        WakeUpQ(wake);
    }

    /// <summary>rwsem_downgrade_wake().</summary>
    private void DowngradeWake()
    {
        var wake = new List<TaskStruct>();
        lock (this.waitLock)
        {
            using var held = this.World.SpinHeld(this.waitLock);
            this.WaitLockTaken();
            if (this.waitList.Count > 0)
            {
                this.MarkWake(WakeType.ReadOwned, wake);
            }
        }

        WakeUpQ(wake);
    }

    /// <summary>raw_spin_lock_irq(&amp;sem-&gt;wait_lock).</summary>
    private void RawSpinLockWaitLock()
    {
        Monitor.Enter(this.waitLock);
        this.World.Memory.SpinLock(this.waitLock);
        this.WaitLockTaken();
    }

    /// <summary>raw_spin_unlock_irq(&amp;sem-&gt;wait_lock).</summary>
    private void RawSpinUnlockWaitLock()
    {
        this.World.Memory.SpinUnlock(this.waitLock);
        Monitor.Exit(this.waitLock);
    }

    /// <summary>
    /// The wait_lock word is part of the semaphore: taking it on a freed semaphore (rwsem_wake()
    /// after the VMA holding it was freed) is a use-after-free write, checked once the lock is held.
    /// </summary>
    private void WaitLockTaken() => this.CheckAlive(AccessKind.ReadModifyWrite, "raw_spin_lock_irqsave", "wait_lock");

    /// <summary>rwsem_cond_wake_waiter(): called with wait_lock held.</summary>
    private void CondWakeWaiter(long count, List<TaskStruct> wake)
    {
        if ((count & WriterMask) != 0)
        {
            return;
        }

        this.MarkWake((count & ReaderMask) != 0 ? WakeType.Readers : WakeType.Any, wake);
    }

    /// <summary>
    /// rwsem_mark_wake(): with wait_lock held, hands the lock to the readers at the front of the
    /// queue (or marks the first writer for wake-up), and adjusts the count in one step.
    /// </summary>
    private void MarkWake(WakeType wakeType, List<TaskStruct> wake)
    {
        var waiter = this.waitList.First!.Value;
        if (waiter.Type == WaiterType.Write)
        {
            // The writer will take the lock itself once woken; until then other writers may steal it.
            if (wakeType == WakeType.Any)
            {
                wake.Add(waiter.Owner);
            }

            return;
        }

        if (this.Count.AtomicRead() < 0)
        {
            return; // too many readers already
        }

        long adjustment = 0;
        if (wakeType != WakeType.ReadOwned)
        {
            adjustment = ReaderBias;
            var oldCount = this.Count.FetchAdd(adjustment, MemoryOrder.Full);
            if ((oldCount & WriterMask) != 0)
            {
                // A writer stole the lock. Waited too long: ask for a handoff.
                if (this.World.Chance($"{this.Name}: reader wait timed out, request handoff", HandoffChance))
                {
                    if ((oldCount & FlagHandoff) == 0)
                    {
                        adjustment -= FlagHandoff;
                    }

                    waiter.HandoffSet = true;
                }

                this.Count.Add(-adjustment);
                return;
            }

            this.SetReaderOwned();
        }

        // Grant the read lock to every reader in the queue (MAX_READERS_WAKEUP is far away here).
        var woken = new List<Waiter>();
        for (var node = this.waitList.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value.Type == WaiterType.Read)
            {
                woken.Add(node.Value);
                this.waitList.Remove(node);
            }

            node = next;
        }

        adjustment = (woken.Count * ReaderBias) - adjustment;
        var count = this.Count.AtomicRead();
        if (this.waitList.Count == 0)
        {
            adjustment -= FlagWaiters;
            if ((count & FlagHandoff) != 0)
            {
                adjustment -= FlagHandoff;
            }
        }
        else if (woken.Count > 0 && (count & FlagHandoff) != 0)
        {
            adjustment -= FlagHandoff;
        }

        if (adjustment != 0)
        {
            this.Count.Add(adjustment);
        }

        foreach (var w in woken)
        {
            var task = w.Owner;
            w.Task.StoreRelease(null);
            wake.Add(task);
        }
    }

    /// <summary>rwsem_set_owner(): sem->owner is current, the writer.</summary>
    private void SetOwner() => this.Owner.WriteOnce(RwsemOwner.Writer(this.World.Current));

    /// <summary>rwsem_clear_owner(): sem->owner is NULL.</summary>
    private void ClearOwner() => this.Owner.WriteOnce(RwsemOwner.None);

    /// <summary>rwsem_set_reader_owned(): sem->owner is RWSEM_READER_OWNED.</summary>
    protected void SetReaderOwned() => this.Owner.WriteOnce(RwsemOwner.ReaderOwned);

    /// <summary>wake_up_q().</summary>
    private static void WakeUpQ(List<TaskStruct> wake)
    {
        foreach (var task in wake)
        {
            task.WakeUp();
        }
    }

    /// <summary>struct rwsem_waiter, on the waiting task's stack.</summary>
    private sealed class Waiter : KernelObject
    {
        public Waiter(KernelWorld world, TaskStruct owner, WaiterType type)
            : base(world, $"waiter({owner.Name})")
        {
            this.Owner = owner;
            this.Type = type;
            this.Task = new SharedVar<TaskStruct?>(world, this, "task", owner, t => t?.ToString() ?? "NULL");
        }

        public TaskStruct Owner { get; }

        public WaiterType Type { get; }

        /// <summary>waiter->task: cleared by the waker when a reader is granted the lock.</summary>
        public SharedVar<TaskStruct?> Task { get; }

        /// <summary>waiter->handoff_set (wait_lock protected).</summary>
        public bool HandoffSet { get; set; }
    }
}

/// <summary>
/// What sem->owner holds, kernel/locking/rwsem.c, v6.4: the task that owns the lock for write,
/// RWSEM_READER_OWNED while readers own it, or NULL. The kernel keeps the last reader's task
/// beside the RWSEM_READER_OWNED bit, for optimistic spinning and debugging; the port, which does
/// not spin, keeps the bit alone. Printed as the kernel developer reads it: the writer's name,
/// <c>RWSEM_READER_OWNED</c> or <c>NULL</c>.
/// </summary>
public readonly record struct RwsemOwner
{
    private RwsemOwner(TaskStruct? task, bool readerOwned)
    {
        this.Task = task;
        this.IsReaderOwned = readerOwned;
    }

    /// <summary>NULL: no owner.</summary>
    public static RwsemOwner None => default;

    /// <summary>RWSEM_READER_OWNED: readers own the lock.</summary>
    public static RwsemOwner ReaderOwned { get; } = new(null, readerOwned: true);

    /// <summary>The writer that owns the lock; null when readers or nobody own it.</summary>
    public TaskStruct? Task { get; }

    /// <summary>Whether the RWSEM_READER_OWNED bit is set (is_rwsem_reader_owned()).</summary>
    public bool IsReaderOwned { get; }

    /// <summary>The task as the lock's writer.</summary>
    public static RwsemOwner Writer(TaskStruct task) => new(task, readerOwned: false);

    public override string ToString() => this.IsReaderOwned ? "RWSEM_READER_OWNED" : this.Task?.ToString() ?? "NULL";
}
