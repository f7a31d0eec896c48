namespace VmaLockVerify.Implementation.Memory.Lkmm;

/// <summary>
/// What a load returned: the value, the view an address dependency on it carries, and, when it
/// did not read the coherence-latest message, the messages after the one it read (oldest first):
/// the newer stores it did not see. Null when it read the latest (always under sequential
/// consistency), so nothing is allocated then.
/// </summary>
public readonly record struct LkmmLoad(object? Value, LkmmView Dependency, IReadOnlyList<LkmmMessage>? Unseen = null);

/// <summary>An RMW's update: false for no store (a failed cmpxchg, atomic_add_unless at the limit).</summary>
public delegate bool LkmmUpdate(object? old, out object? updated);

/// <summary>
/// The promise-free Promising view machine with LKMM's rules (WEAK-MEMORY.md §3): per-location
/// histories of timestamped messages, per-CPU views, one global SC view. Threads are numbered by
/// the caller (0..n-1), locations are opaque keys compared with <see cref="object.Equals(object)"/>.
/// Every nondeterministic decision goes through <see cref="ILkmmChoice"/>. Not thread-safe: the
/// caller runs one step at a time (an interleaving).
/// <para>
/// An <see cref="IMemoryModel"/> adapter on top of it needs: a dense id for the current kernel
/// thread; the <see cref="SharedVar{T}"/> itself as the location key, given its initial value
/// through <see cref="Initialize"/> at construction (a location never initialised starts as 0L);
/// <see cref="Kernel.IExecutionControl.Choose"/> as the <see cref="ILkmmChoice"/>; a way to say
/// that an Exchange does not store (a failed cmpxchg), since <see cref="ReadModifyWrite"/>
/// treats that as a relaxed read; the dependency view of a load that returned a pointer, handed
/// to the loads made through that pointer; and blocking (not spinning) on <see cref="CanLock"/>
/// and <see cref="SynchronizeRcuCanEnd"/>.
/// </para>
/// </summary>
public sealed class LkmmMachine(LkmmOptions options, ILkmmChoice choice)
{
    private readonly Dictionary<object, int> index = [];
    private readonly List<LkmmHistory> histories = [];
    private readonly List<LkmmThread> threads = [];
    private readonly LkmmView rcuEnded = new();
    private LkmmView sc = new();
    private LkmmView gracePeriodsDone = new();

    public LkmmOptions Options => options;

    /// <summary>
    /// Called for every new message, its result kept as <see cref="LkmmMessage.Stamp"/> (the
    /// adapter's trace step of the store); null: no stamps.
    /// </summary>
    public Func<object?>? Stamp { get; set; }

    private bool Weak => options.Kind == LkmmMemoryKind.Lkmm;

    /// <summary>Gives <paramref name="location"/> its initial value (before any access; otherwise it starts as 0L).</summary>
    public void Initialize(object location, object? value)
    {
        if (this.index.ContainsKey(location))
        {
            throw new InvalidOperationException($"{location} is already initialised");
        }

        this.index[location] = this.histories.Count;
        this.histories.Add(new LkmmHistory(value, options.HistoryBound));
    }

    /// <summary>The co-latest value of a location (herd's final state).</summary>
    public object? FinalValue(object location) => this.History(location).Newest.Value;

    /// <summary>
    /// READ_ONCE / atomic_read / rcu_dereference (<see cref="MemoryOrder.Once"/>, <see cref="MemoryOrder.Relaxed"/>,
    /// <see cref="MemoryOrder.Plain"/>) or smp_load_acquire (<see cref="MemoryOrder.Acquire"/>). Reads a
    /// message at or above the CPU's coherence bound (PS <c>readable</c>) and, when given, the view of
    /// the load its address depends on (LKMM <c>addr</c> is in <c>ppo</c>).
    /// </summary>
    public LkmmLoad Load(int thread, object location, MemoryOrder order, LkmmView? dependency = null)
    {
        var t = this.Thread(thread);
        var loc = this.Loc(location);
        var bound = Math.Max(t.Bound(loc), dependency?[loc] ?? 0);
        var m = this.Pick(this.Readable(loc, bound));
        return new LkmmLoad(m.Value, this.Observe(t, loc, m, order == MemoryOrder.Acquire), this.After(loc, m));
    }

    /// <summary>
    /// WRITE_ONCE / atomic_set (relaxed) or smp_store_release / rcu_assign_pointer / atomic_set_release
    /// (<see cref="MemoryOrder.Release"/>). PS <c>write_tview</c> and <c>write_released</c> with the
    /// LKMM release view described at <c>Write</c>.
    /// </summary>
    public void Store(int thread, object location, object? value, MemoryOrder order)
    {
        var t = this.Thread(thread);
        var loc = this.Loc(location);
        var history = this.histories[loc];
        var gaps = this.Weak && options.Placement == LkmmWritePlacement.Insert
            ? this.Readable(loc, t.Bound(loc)).Where(m => !m.SuccessorTaken).ToList()
            : [history.Newest];
        this.Write(t, thread, loc, this.Pick(gaps), value, order == MemoryOrder.Release, null);
    }

    /// <summary>
    /// An atomic read-modify-write. <see cref="MemoryOrder.Full"/> (xchg, cmpxchg, atomic_*_return,
    /// atomic_fetch_*) is <c>smp_mb(); relaxed RMW; smp_mb()</c> when it stores (GenMC v0.9
    /// include/lkmm.h; linux-kernel.cat's <c>Before-atomic</c>/<c>After-atomic</c>), and a relaxed read
    /// when it does not (Documentation/litmus-tests/atomic/cmpxchg-fail-unordered-1.litmus).
    /// <see cref="MemoryOrder.Acquire"/> orders the read part, <see cref="MemoryOrder.Release"/> the
    /// write part, <see cref="MemoryOrder.Relaxed"/> neither (also atomic_inc/atomic_add, which return
    /// nothing). The read is of a message no other RMW has read, and the new message sits right after
    /// it (PS: <c>from</c> = the read message's <c>to</c>). Returns the old value.
    /// </summary>
    public LkmmLoad ReadModifyWrite(int thread, object location, MemoryOrder order, LkmmUpdate update)
    {
        var t = this.Thread(thread);
        var loc = this.Loc(location);
        var full = order == MemoryOrder.Full;

        // A storing full RMW reads after its leading smp_mb(), which raises the bound to everything
        // the CPU heard of and the SC view; a failing one reads with the plain bound.
        var fencedBound = full ? Math.Max(t.Bound(loc), Math.Max(t.Acq[loc], this.sc[loc])) : t.Bound(loc);
        var newest = this.histories[loc].Newest;
        var candidates = new List<(LkmmMessage Message, bool Stores, object? Updated)>();
        foreach (var m in this.Readable(loc, Math.Min(fencedBound, t.Bound(loc))))
        {
            var stores = update(m.Value, out var updated);
            var allowed = stores
                ? m.Time >= fencedBound && !m.SuccessorTaken && (this.Weak && options.Placement == LkmmWritePlacement.Insert || m == newest)
                : m.Time >= t.Bound(loc);
            if (allowed)
            {
                candidates.Add((m, stores, updated));
            }
        }

        if (candidates.Count == 0)
        {
            throw new InvalidOperationException($"no message of {location} can be read by an RMW of thread {thread}");
        }

        var (read, store, value) = candidates[candidates.Count == 1 ? 0 : choice.Choose(candidates.Count)];
        var unseen = this.After(loc, read);
        if (!store)
        {
            return new LkmmLoad(read.Value, this.Observe(t, loc, read, order == MemoryOrder.Acquire), unseen);
        }

        if (full)
        {
            this.Fence(thread, MemoryBarrier.Mb);
        }

        var dependency = this.Observe(t, loc, read, order == MemoryOrder.Acquire);
        read.SuccessorTaken = true;
        this.Write(t, thread, loc, read, value, order == MemoryOrder.Release, options.RmwSequences ? read.View : null);
        if (full)
        {
            this.Fence(thread, MemoryBarrier.Mb);
        }

        return new LkmmLoad(read.Value, dependency, unseen);
    }

    /// <summary>
    /// smp_rmb(): <c>curR ⊔= acq</c> (PS acquire fence restricted to loads: explanation.txt "smp_rmb()
    /// forces the CPU to execute all po-earlier loads before any po-later loads").
    /// smp_wmb(): <c>rel ⊔= ownPub</c>, the CPU's own po-earlier stores only (explanation.txt:
    /// "smp_wmb() fences are not A-cumulative").
    /// smp_mb() and every strong fence (smp_mb__before_atomic/after_atomic/after_spinlock, the ends of
    /// synchronize_rcu): PS's SC fence over the joined views (linux-kernel.cat <c>strong-fence</c>,
    /// A-cumulative and in <c>pb</c>).
    /// </summary>
    public void Fence(int thread, MemoryBarrier barrier)
    {
        var t = this.Thread(thread);
        switch (barrier)
        {
            case MemoryBarrier.Rmb:
                t.CurR.Join(t.Acq);
                break;
            case MemoryBarrier.Wmb:
                t.RelAll.Join(t.OwnPub);
                break;
            default:
                var all = LkmmView.JoinOf(t.CurR, t.CurW, t.Acq);
                this.sc.Join(all);
                t.CurR = this.sc.Clone();
                t.CurW = this.sc.Clone();
                t.Acq.Join(this.sc);
                t.RelAll = this.sc.Clone();
                t.Rel.Clear();
                break;
        }
    }

    /// <summary>Whether spin_lock(<paramref name="lockLocation"/>) can take the lock now (its newest message is unlocked).</summary>
    public bool CanLock(object lockLocation) => IsUnlocked(this.History(lockLocation).Newest.Value);

    /// <summary>
    /// spin_lock(): an acquire RMW of the lock word that reads the newest message, which must be an
    /// unlock (call only when <see cref="CanLock"/>). Then LKMM's <c>po-unlock-lock-po</c> (in
    /// <c>ppo</c> and <c>cumul-fence</c> of linux-kernel.cat): stores po-before the unlock it read
    /// (another CPU's: <c>rf</c>) and po-before this CPU's own latest unlock (<c>po</c>, any lock)
    /// propagate before this CPU's later stores. Not A-cumulative and no SC join: a third CPU may
    /// still see the critical sections out of order (Z6.0+pooncelock+pooncelock+pombonce).
    /// </summary>
    public void Lock(int thread, object lockLocation)
    {
        var t = this.Thread(thread);
        var loc = this.Loc(lockLocation);
        var unlock = this.histories[loc].Newest;
        if (!IsUnlocked(unlock.Value))
        {
            throw new InvalidOperationException($"spin_lock({lockLocation}) while it is held");
        }

        this.Observe(t, loc, unlock, acquire: true);
        unlock.SuccessorTaken = true;
        this.Write(t, thread, loc, unlock, 1L, release: false, null);
        if (unlock.UnlockOrdered is { } other)
        {
            t.RelAll.Join(other);
        }

        if (t.LastUnlock is { } own)
        {
            t.RelAll.Join(own);
        }
    }

    /// <summary>spin_unlock(): a release store of "unlocked" that remembers the stores po-before it.</summary>
    public void Unlock(int thread, object lockLocation)
    {
        var t = this.Thread(thread);
        var loc = this.Loc(lockLocation);
        t.LastUnlock = t.OwnPub.Clone();
        this.Write(t, thread, loc, this.histories[loc].Newest, 0L, release: true, null, t.LastUnlock);
    }

    /// <summary>
    /// rcu_read_lock(). The outermost one starts a read-side critical section, which follows every
    /// grace period that has already ended, so it sees what their updaters saw at the start of the
    /// grace period (the RCU guarantee, Documentation/RCU/Design/Requirements "Grace-Period Guarantee").
    /// </summary>
    public void RcuReadLock(int thread)
    {
        var t = this.Thread(thread);
        if (t.RcuDepth++ == 0 && this.Weak)
        {
            t.CurR.Join(this.gracePeriodsDone);
            t.CurW.Join(this.gracePeriodsDone);
            t.Acq.Join(this.gracePeriodsDone);
        }
    }

    /// <summary>rcu_read_unlock(): the outermost one ends the critical section and records what it saw and wrote for later grace periods.</summary>
    public void RcuReadUnlock(int thread)
    {
        var t = this.Thread(thread);
        if (t.RcuDepth == 0)
        {
            throw new InvalidOperationException("rcu_read_unlock() without rcu_read_lock()");
        }

        if (--t.RcuDepth == 0)
        {
            this.rcuEnded.Join(LkmmView.JoinOf(t.CurR, t.CurW, t.Acq, t.OwnPub));
        }
    }

    /// <summary>The first half of synchronize_rcu(): a strong fence (<c>gp</c> is in <c>strong-fence</c>), then the grace period starts.</summary>
    public void SynchronizeRcuBegin(int thread)
    {
        var t = this.Thread(thread);
        this.Fence(thread, MemoryBarrier.Mb);
        t.InGracePeriod = true;
        t.GracePeriodStart = LkmmView.JoinOf(t.CurR, t.CurW);
    }

    /// <summary>Whether the grace period of <paramref name="thread"/> can end: no other CPU is inside a read-side critical section.</summary>
    public bool SynchronizeRcuCanEnd(int thread) =>
        this.threads.Where((t, i) => i != thread).All(t => t.RcuDepth == 0);

    /// <summary>
    /// The second half, once no critical section is running: every critical section that has ended
    /// precedes the updater's later accesses (the updater joins their views), then a strong fence.
    /// That covers the sections that overlapped the grace period (RCU+sync+read), and also the ones
    /// that ended before it started, which RCU orders only if the updater observed them: stronger
    /// than RCU for unobserved sections, whose other outcomes the interleaving that runs them after
    /// the grace period still reaches. Readers that start later see the grace period's start view
    /// (<see cref="RcuReadLock"/>).
    /// </summary>
    public void SynchronizeRcuEnd(int thread)
    {
        var t = this.Thread(thread);
        if (!t.InGracePeriod)
        {
            throw new InvalidOperationException("synchronize_rcu() end without its start");
        }

        t.CurR.Join(this.rcuEnded);
        t.CurW.Join(this.rcuEnded);
        t.Acq.Join(this.rcuEnded);

        this.Fence(thread, MemoryBarrier.Mb);
        this.gracePeriodsDone.Join(t.GracePeriodStart!);
        t.InGracePeriod = false;
        t.GracePeriodStart = null;
    }

    /// <summary>
    /// call_rcu(): the grace period its callback waits for starts here, with a strong fence as
    /// <see cref="SynchronizeRcuBegin"/>'s. A caller whose callback waits only for the readers
    /// present now (Kernel.Rcu) lets every reader that starts later see the queuing CPU's view,
    /// as RCU does for readers that start after a grace period began. Returns that view, for
    /// <see cref="RcuCallbackRuns"/>.
    /// </summary>
    public LkmmView CallRcu(int thread)
    {
        var t = this.Thread(thread);
        this.Fence(thread, MemoryBarrier.Mb);
        var start = LkmmView.JoinOf(t.CurR, t.CurW, t.Acq);
        this.gracePeriodsDone.Join(start);
        return start;
    }

    /// <summary>
    /// The callback queued with <paramref name="start"/> runs on <paramref name="thread"/> once every
    /// reader present at call_rcu() has left: as <see cref="SynchronizeRcuEnd"/>, every ended
    /// read-side section precedes it, and so does the queuing CPU's view (the callback runs after
    /// its grace period, Documentation/RCU/Design/Requirements "Grace-Period Guarantee"); then a
    /// strong fence.
    /// </summary>
    public void RcuCallbackRuns(int thread, LkmmView start)
    {
        var t = this.Thread(thread);
        var before = LkmmView.JoinOf(this.rcuEnded, start);
        t.CurR.Join(before);
        t.CurW.Join(before);
        t.Acq.Join(before);
        this.Fence(thread, MemoryBarrier.Mb);
    }

    /// <summary>A new location that no access names, for <see cref="RaiseOwn"/> and <see cref="Knows"/>.</summary>
    public int NewPseudoLocation() => this.Loc(new object());

    /// <summary>
    /// Raises <paramref name="thread"/>'s own entry for the pseudo-location <paramref name="clock"/>
    /// to <paramref name="value"/> in its views, and in the view its smp_wmb() publishes when
    /// <paramref name="published"/>. No load or store touches a pseudo-location
    /// (<see cref="LkmmRaceDetector{TSite}"/>'s clocks), so another CPU's entry for it rises only
    /// through the orderings the machine gives: it says how much of this CPU's execution happens
    /// before that CPU's next access.
    /// </summary>
    public void RaiseOwn(int thread, int clock, long value, bool published)
    {
        var t = this.Thread(thread);
        t.CurR.Raise(clock, value);
        t.CurW.Raise(clock, value);
        t.Acq.Raise(clock, value);
        if (published)
        {
            t.OwnPub.Raise(clock, value);
        }
    }

    /// <summary>
    /// The entry for <paramref name="clock"/> that <paramref name="thread"/>'s next load is ordered
    /// after (<c>curR</c>), or its next store (<c>acq</c>, everything its loads heard of: the machine
    /// never lets a store overtake a po-earlier load, and LKMM orders a store after a load it depends
    /// on, as a wait loop's store depends on its condition).
    /// </summary>
    public long Knows(int thread, int clock, bool store)
    {
        var t = this.Thread(thread);
        return store ? Math.Max(t.CurW[clock], t.Acq[clock]) : t.CurR[clock];
    }

    private static bool IsUnlocked(object? value) => value is long l && l == 0;

    /// <summary>
    /// The read step (PS <c>read_tview</c>): the load's bound rises to the message; the message's view
    /// joins <c>acq</c> only (relaxed) or also the bounds (acquire). Returns the dependency view.
    /// </summary>
    private LkmmView Observe(LkmmThread t, int loc, LkmmMessage m, bool acquire)
    {
        t.CurR.Raise(loc, m.Time);
        t.CurW.Raise(loc, m.Time);
        var heard = LkmmView.JoinOf(m.View);
        heard.Raise(loc, m.Time);
        t.Acq.Join(heard);
        if (acquire)
        {
            t.CurR.Join(heard);
            t.CurW.Join(heard);
        }

        return heard;
    }

    /// <summary>
    /// Places a message right after <paramref name="after"/>. Its view: relaxed, what the CPU's
    /// fences published (<c>rel</c>); release, <c>acq ⊔ curR ⊔ curW</c>: LKMM's release is
    /// A-cumulative over every store that reached the CPU, including through relaxed reads
    /// (linux-kernel.cat <c>A-cumul(po-rel)</c> = <c>rfe? ; po-rel</c>), where PS uses <c>cur</c> only.
    /// </summary>
    private void Write(LkmmThread t, int thread, int loc, LkmmMessage after, object? value, bool release, LkmmView? carried, LkmmView? unlockOrdered = null)
    {
        var history = this.histories[loc];
        var time = history.TimeAfter(after);
        var view = release ? LkmmView.JoinOf(t.Acq, t.CurR, t.CurW, t.RelaxedPublish(loc)) : t.RelaxedPublish(loc);
        if (carried is not null)
        {
            view.Join(carried);
        }

        view.Raise(loc, time);
        history.Add(new LkmmMessage(time, value, view, thread) { UnlockOrdered = unlockOrdered, Stamp = this.Stamp?.Invoke() });
        t.CurR.Raise(loc, time);
        t.CurW.Raise(loc, time);
        t.Acq.Raise(loc, time);
        t.OwnPub.Join(view);
        if (release && options.ReleaseSequences)
        {
            t.Rel[loc] = view.Clone();
        }
    }

    /// <summary>The messages coherence-after <paramref name="read"/>, oldest first; null when it is the newest (no allocation).</summary>
    private List<LkmmMessage>? After(int loc, LkmmMessage read)
    {
        var messages = this.histories[loc].Messages;
        return messages[^1] == read ? null : [.. messages.Where(m => m.Time > read.Time)];
    }

    /// <summary>Newest first; only the newest under sequential consistency.</summary>
    private List<LkmmMessage> Readable(int loc, long bound) =>
        this.Weak ? this.histories[loc].Readable(bound) : [this.histories[loc].Newest];

    private LkmmMessage Pick(List<LkmmMessage> candidates) =>
        candidates[candidates.Count == 1 ? 0 : choice.Choose(candidates.Count)];

    private LkmmHistory History(object location) => this.histories[this.Loc(location)];

    private int Loc(object location)
    {
        if (!this.index.TryGetValue(location, out var loc))
        {
            this.Initialize(location, 0L);
            loc = this.index[location];
        }

        return loc;
    }

    private LkmmThread Thread(int thread)
    {
        while (this.threads.Count <= thread)
        {
            this.threads.Add(new LkmmThread());
        }

        return this.threads[thread];
    }
}
