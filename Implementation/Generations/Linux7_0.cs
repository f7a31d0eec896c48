using VmaLockVerify.Implementation.Fs;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>The task state a writer sleeps in while it waits for readers (v7.0 passes it down instead of a flag).</summary>
public enum TaskState
{
    /// <summary>TASK_UNINTERRUPTIBLE: only the last reader's wake-up ends the wait.</summary>
    Uninterruptible,

    /// <summary>TASK_KILLABLE: a fatal signal ends the wait too (vma_start_write_killable()).</summary>
    Killable,
}

/// <summary>
/// struct vma_exclude_readers_state, mm/mmap_lock.c (v7.0): what __vma_start_exclude_readers()
/// and __vma_end_exclude_readers() share. The VMA, the sleep state and whether the caller is
/// detaching go in; whether the VMA ended up detached and whether readers are now excluded come out.
/// </summary>
public sealed class VmaExcludeReadersState(VmAreaStruct vma, TaskState state, bool detaching)
{
    public VmAreaStruct Vma { get; } = vma;

    public TaskState State { get; } = state;

    public bool Detaching { get; } = detaching;

    public bool Detached { get; set; }

    /// <summary>Readers are excluded: the caller must call __vma_end_exclude_readers() when done.</summary>
    public bool Exclusive { get; set; }
}

/// <summary>
/// Generation "7.0": mainline v7.0, include/linux/mmap_lock.h
/// and mm/mmap_lock.c, relative to 6.15 as ported (its v6.19 form). vma_start_read() and
/// lock_vma_under_rcu() read as 6.15's port already has them: RCU dropped by vma_start_read() on
/// every failure (0b16f8bed19c) and, on -EAGAIN, mas_set(&amp;mas, address) before the walk is
/// redone (the 6.18-rc fix of syzbot 131f9eb2b5807573275c). 6.15's port walks the tree from the
/// top on every call, so the reset is implicit there; this generation ports lock_vma_under_rcu()
/// with its ma_state (a cursor caching the node it found) and a tree that frees the nodes a
/// modification replaces after a grace period, so that the reset matters. What v7.0 changed is the writer side, rewritten around one state object and renamed
/// (25faccd69977 and its series): VMA_LOCK_OFFSET is VM_REFCNT_EXCLUDE_READERS_FLAG (the same
/// bit; traces print the new name), __vma_enter_locked()/__vma_exit_locked() are
/// __vma_start_exclude_readers()/__vma_end_exclude_readers() (the former now asserts mmap_lock held
/// for write and ends the exclusion itself when a fatal signal cuts the wait short),
/// __vma_start_write() takes the task state and reads mm_lock_seq itself (__vma_raw_mm_seqnum()),
/// __is_vma_write_locked() takes only the VMA, vma_mark_detached() moved into the header and waits
/// through __vma_exclude_readers_for_detach(), vma_refcount_put() decrements through
/// __vma_refcount_put_return() and wakes the writer when __vma_are_readers_excluded(). New
/// assertions: vma_assert_locked() (from vm_refcnt's states, as built without lockdep) and
/// vma_assert_stabilised() (mmap_lock or a VMA lock). Changes: the boot-time tree (replaced nodes
/// freed after a grace period), lock_vma_under_rcu() (with its ma_state), vma_refcount_put(), __vma_refcount_put_return() (new), vma_start_write(),
/// vma_start_write_killable(), __is_vma_write_locked(), __vma_raw_mm_seqnum() (new),
/// __vma_start_write() (new signature), __vma_start_exclude_readers() and
/// __vma_end_exclude_readers() (replacing __vma_enter_locked() and __vma_exit_locked()),
/// __vma_exclude_readers_for_detach() (new), vma_mark_detached(), vma_assert_write_locked() (a
/// warning now), vma_assert_locked() and vma_assert_stabilised() (new). Beside them, in their own
/// files: the /proc/PID/maps readers (Linux7_0.ProcMaps.cs), madvise under the VMA read lock
/// (Linux7_0.Madvise.cs), dup_mmap()'s killable write lock (Linux7_0.Killable.cs), mmap_region()'s
/// merge of a new range (Linux7_0.Vma.cs) and do_mprotect_pkey()'s new flags (Linux7_0.Mprotect.cs).
/// <para>
/// Not modelled: lockdep (the __vma_lockdep_* annotations and vma_assert_locked()'s lockdep
/// branch), the page walker's PGWALK_VMA_RDLOCK_VERIFY (vma_assert_stabilised()'s other
/// callers are ported: anon_vma_name() from the /proc/PID/maps readers in Linux7_0.ProcMaps.cs,
/// vma_set_atomic_flag() from madvise in Linux7_0.Madvise.cs); the maple tree's inner nodes (a
/// node here is the leaf entry of one range) and node freeing in trees made after boot (fork's child).
/// </para>
/// </summary>
public partial interface Linux7_0 : Linux6_15
{
    /// <summary>The exclusion bit is VM_REFCNT_EXCLUDE_READERS_FLAG from v7.0 (25faccd69977).</summary>
    string Linux6_15.ExcludeReadersFlagName => VmAreaStruct.VmRefcntExcludeReadersFlagName;

    /// <summary>
    /// Boot-time VMAs are attached already (vm_refcnt = 1), and the mm's tree frees the nodes a
    /// modification replaces after a grace period: lock_vma_under_rcu() keeps an ma_state across
    /// RCU sections, which is safe only if it goes back to MAS_START in between.
    /// </summary>
    void Linux.InstallAtSetup(MmStruct mm, VmAreaStruct vma)
    {
        mm.MmMt.FreesReplacedNodes = true;
        mm.MmMt.Populate(vma);
        this.World.Memory.Store(vma.VmRefcnt, 1, MemoryOrder.Plain);
    }

    // ---- mm/mmap_lock.c: the reader ------------------------------------------------------

    /// <summary>
    /// lock_vma_under_rcu(), mm/mmap_lock.c (v7.0; the mas_set() since the 6.18-rc fix of syzbot
    /// 131f9eb2b5807573275c): walk the tree under RCU with an ma_state; vma_start_read() drops RCU
    /// when it fails, so on -EAGAIN the state is set back to the address (its cached node may be
    /// freed once RCU is dropped) before the walk is redone; on success drop RCU and check the range.
    /// </summary>
    VmAreaStruct? Linux.LockVmaUnderRcu(MmStruct mm, ulong address)
    {
        using var fn = this.World.Enter("lock_vma_under_rcu", $"{mm.Name}, {VmAreaStruct.Hex(address)}");
        var mas = new MaState(mm.MmMt, address);
        while (true) // retry:
        {
            this.World.Rcu.ReadLock();
            var vma = mm.MmMt.MasWalk(mas);
            if (vma is null)
            {
                this.World.Rcu.ReadUnlock();
                return fn.Returns(this.LockVmaUnderRcuInval6_15());
            }

            var locked = this.VmaStartRead(mm, vma);
            if (locked == ReadLockOutcome.Again)
            {
                // The VMA was detached after we found it: another one took its place. Walk again
                // from the top, in a new RCU section.
                this.World.CountVmEvent("VMA_LOCK_MISS");
                this.VmaLookupRetried(mm, vma);
                mas.Set(address);
                continue;
            }

            if (locked == ReadLockOutcome.Failed)
            {
                return fn.Returns(this.LockVmaUnderRcuInval6_15());
            }

            // A stable reference to a VMA that is not isolated: any field may be read now.
            this.World.Rcu.ReadUnlock();

            // Is the VMA we locked the right one?
            if (address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
            {
                this.VmaEndRead(vma);
                return fn.Returns(this.LockVmaUnderRcuInval6_15());
            }

            this.World.Emit(new FaultLockedVma(this.Thread, mm.Name, vma.Name, address));
            return fn.Returns(vma);
        }
    }

    /// <summary>
    /// lock_next_vma_under_mmap_lock(), mm/mmap_lock.c (v7.0): lock_next_vma()'s fallback. Under
    /// mmap_read_lock the VMA at the last position is looked up again and read-locked (which can
    /// only fail on vm_refcnt overflow: -EAGAIN then).
    /// </summary>
    VmaPtr LockNextVmaUnderMmapLock(MmStruct mm, VmaIterator vmi, ulong fromAddr)
    {
        using var fn = this.World.Enter("lock_next_vma_under_mmap_lock", $"{mm.Name}, &vmi, {VmAreaStruct.Hex(fromAddr)}");
        var ret = this.MmapReadLockKillable(mm);
        if (ret != 0)
        {
            return fn.Returns(VmaPtr.ErrPtr(ret));
        }

        // Lookup the vma at the last position again under mmap_read_lock.
        this.VmaIterSet(vmi, fromAddr);
        VmaPtr vma = this.VmaNext(vmi);
        if (vma.Vma is { } found)
        {
            // Very unlikely vma->vm_refcnt overflow case.
            if (!this.VmaStartReadLocked(found))
            {
                vma = VmaPtr.ErrPtr(-Errno.EAGAIN);
            }
        }

        this.MmapReadUnlock(mm);
        return fn.Returns(vma);
    }

    /// <summary>
    /// lock_next_vma(), mm/mmap_lock.c (v7.0): called under RCU; the next VMA at or after
    /// <paramref name="fromAddr"/>, read-locked, NULL at the end, or an ERR_PTR. A VMA detached
    /// under us is looked up again at once (vma_start_read() dropped RCU, so RCU is taken again and
    /// the iterator reset); one that cannot be locked, or is behind the last position, or is ahead
    /// of it while the address space may have changed since the lookup (it may have shrunk, with
    /// another VMA installed in front of it), sends the lookup to mmap_lock. Returns with RCU held.
    /// </summary>
    VmaPtr LockNextVma(MmStruct mm, VmaIterator vmi, ulong fromAddr)
    {
        using var fn = this.World.Enter("lock_next_vma", $"{mm.Name}, &vmi, {VmAreaStruct.Hex(fromAddr)}");
        this.World.VmBugOn(!this.World.Rcu.ReadLockHeld, "RCU_LOCKDEP_WARN(!rcu_read_lock_held(), \"no rcu read lock held\") in lock_next_vma");
        while (true) // retry:
        {
            // Start mmap_lock speculation in case we need to verify the vma later.
            var mmapUnlocked = this.MmapLockSpeculateTryBegin(mm, out var mmWrSeq);
            var vma = this.VmaNext(vmi);
            if (vma is null)
            {
                return fn.Returns(VmaPtr.Null);
            }

            var locked = this.VmaStartRead(mm, vma);
            if (locked != ReadLockOutcome.Locked)
            {
                // Retry immediately if the vma gets detached from under us. An infinite loop
                // should not happen: the vma we find would have to be knocked out from under us
                // every time.
                if (locked == ReadLockOutcome.Again)
                {
                    // Reset to search from the last address.
                    this.VmaLookupRetried(mm, vma);
                    this.World.Rcu.ReadLock();
                    this.VmaIterSet(vmi, fromAddr);
                    continue;
                }

                return fn.Returns(this.LockNextVmaFallback(mm, vmi, fromAddr));
            }

            // Verify the vma is not behind the last search position.
            if (fromAddr >= vma.VmEnd.Plain())
            {
                return fn.Returns(this.LockNextVmaFallbackUnlock(mm, vmi, fromAddr, vma));
            }

            // The vma can be ahead of the last search position, but then it must not have shrunk
            // after we found it with another vma installed ahead of it: that would show a gap
            // that should not be there.
            if (fromAddr < vma.VmStart.Plain())
            {
                // Verify only if the address space might have changed since the vma lookup.
                if (!mmapUnlocked || this.MmapLockSpeculateRetry(mm, mmWrSeq))
                {
                    this.VmaIterSet(vmi, fromAddr);
                    if (vma != this.VmaNext(vmi))
                    {
                        return fn.Returns(this.LockNextVmaFallbackUnlock(mm, vmi, fromAddr, vma));
                    }
                }
            }

            return fn.Returns<VmaPtr>(vma);
        }
    }

    /// <summary>lock_next_vma()'s <c>fallback_unlock:</c> label: leave RCU, drop the VMA's read lock, then <c>fallback:</c>.</summary>
    protected sealed VmaPtr LockNextVmaFallbackUnlock(MmStruct mm, VmaIterator vmi, ulong fromAddr, VmAreaStruct vma)
    {
        this.World.Rcu.ReadUnlock();
        this.VmaEndRead(vma);
        return this.LockNextVmaFallback(mm, vmi, fromAddr);
    }

    /// <summary>
    /// lock_next_vma()'s <c>fallback:</c> label (RCU not held: vma_start_read() dropped it, or
    /// fallback_unlock: did): look the VMA up under mmap_lock, re-enter RCU, and reinitialize the
    /// iterator after re-entering the RCU read section.
    /// </summary>
    protected sealed VmaPtr LockNextVmaFallback(MmStruct mm, VmaIterator vmi, ulong fromAddr)
    {
        var vma = this.LockNextVmaUnderMmapLock(mm, vmi, fromAddr);
        this.World.Rcu.ReadLock();
        this.VmaIterSet(vmi, vma.IsErrOrNull ? fromAddr : vma.Vma!.VmEnd.Plain());
        return vma;
    }

    // ---- include/linux/mmap_lock.h -------------------------------------------------------

    /// <summary>
    /// mmap_lock_speculate_try_begin(), include/linux/mmap_lock.h (v7.0): raw_seqcount_try_begin()
    /// on mm_lock_seq. mmap_lock is a sleeping lock, so speculating while it is write-locked is not
    /// worth it: false then (the sequence is odd). The sequence read goes to <paramref name="seq"/>.
    /// </summary>
    bool MmapLockSpeculateTryBegin(MmStruct mm, out int seq)
    {
        using var fn = this.World.Enter("mmap_lock_speculate_try_begin", mm.Name);
        seq = mm.MmLockSeq.ReadOnce(); // raw_read_seqcount(): READ_ONCE(), then smp_rmb()
        this.World.Memory.Fence(MemoryBarrier.Rmb);
        return fn.Returns((seq & 1) == 0);
    }

    /// <summary>mmap_lock_speculate_retry(), include/linux/mmap_lock.h (v7.0): read_seqcount_retry() on mm_lock_seq: whether a writer came since <paramref name="seq"/>.</summary>
    bool MmapLockSpeculateRetry(MmStruct mm, int seq)
    {
        using var fn = this.World.Enter("mmap_lock_speculate_retry", mm.Name);
        this.World.Memory.Fence(MemoryBarrier.Rmb);
        return fn.Returns(mm.MmLockSeq.ReadOnce() != seq);
    }

    // ---- include/linux/mmap_lock.h -------------------------------------------------------

    /// <summary>
    /// __vma_are_readers_excluded(), include/linux/mmap_lock.h (v7.0; is_vma_writer_only() before):
    /// the flag is set and at most the attach reference remains beside it. For a detached VMA it
    /// may say so while one reader is still leaving (the detaching target has no attach
    /// reference); that window is narrow, and the wake-up is only early.
    /// </summary>
    static bool __VmaAreReadersExcluded(int refcnt) =>
        (refcnt & VmAreaStruct.VmaLockOffset) != 0 && refcnt <= VmAreaStruct.VmaLockOffset + 1;

    /// <summary>
    /// __vma_refcount_put_return(), include/linux/mmap_lock.h (v7.0): the decrement itself; returns
    /// the count right after it, 0 when that detached the VMA.
    /// </summary>
    int __VmaRefcountPutReturn(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("__vma_refcount_put_return", vma.Name);
        return fn.Returns(vma.VmRefcnt.DecAndTest(out var oldcnt) ? 0 : oldcnt - 1);
    }

    /// <summary>
    /// vma_refcount_put(), include/linux/mmap_lock.h (v7.0): a read lock is dropped; vm_mm is copied
    /// first (the VMA may be freed and reused once the count falls), and a writer sleeping in
    /// __vma_start_exclude_readers() is woken when this was the last reader in its way. A reader
    /// that bumps the count for a moment can make the wake-up spurious.
    /// </summary>
    void Linux6_15.VmaRefcountPut(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_refcount_put", vma.Name);

        // The VMA may be freed as soon as vm_refcnt drops: keep our own copy of vm_mm.
        var mm = vma.VmMmVar.Plain();
        this.World.Emit(new VmaReferenceDropping(this.Thread, vma.Name, mm.Name, this.World.Current.Mm));
        var newcnt = this.__VmaRefcountPutReturn(vma);
        if (newcnt != 0 && __VmaAreReadersExcluded(newcnt))
        {
            Rcuwait.WakeUp(mm.VmaWriterWait);
        }
    }

    /// <summary>
    /// __vma_raw_mm_seqnum(), include/linux/mmap_lock.h (v7.0): mm->mm_lock_seq.sequence, read
    /// plain; valid only with mmap_lock held for write, which it asserts.
    /// </summary>
    int __VmaRawMmSeqnum(VmAreaStruct vma)
    {
        this.MmapAssertWriteLocked(vma.VmMm);
        return vma.VmMm.MmLockSeq.Plain();
    }

    /// <summary>
    /// __is_vma_write_locked(), include/linux/mmap_lock.h (v7.0): one argument now; only with
    /// mmap_lock held for write, when neither sequence can change under us. The port's out
    /// parameter hands the sequence read back to the older callers that still take it.
    /// </summary>
    bool Linux.__IsVmaWriteLocked(VmAreaStruct vma, out int mmLockSeq)
    {
        mmLockSeq = this.__VmaRawMmSeqnum(vma);
        return vma.VmLockSeq.Plain() == mmLockSeq;
    }

    /// <summary>
    /// vma_start_write(), include/linux/mmap_lock.h (v7.0): keep readers off the VMA until mmap_lock
    /// is released or downgraded; the wait for readers cannot be interrupted.
    /// </summary>
    void Linux.VmaStartWrite(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_write", vma.Name);
        if (this.__IsVmaWriteLocked(vma, out _))
        {
            this.VmaStartWriteReturned(vma, wasAlreadyMarked: true);
            return;
        }

        this.__VmaStartWrite(vma, TaskState.Uninterruptible);
        this.VmaStartWriteReturned(vma, wasAlreadyMarked: false);
    }

    /// <summary>
    /// vma_start_write_killable(), include/linux/mmap_lock.h (v7.0): as vma_start_write(), but a
    /// fatal signal may end the sleep; 0 when the VMA is write-locked, -EINTR when it is not.
    /// </summary>
    int Linux.VmaStartWriteKillable(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_write_killable", vma.Name);
        if (this.__IsVmaWriteLocked(vma, out _))
        {
            this.VmaStartWriteReturned(vma, wasAlreadyMarked: true);
            return fn.Returns(0);
        }

        var error = this.__VmaStartWrite(vma, TaskState.Killable);
        if (error == 0)
        {
            this.VmaStartWriteReturned(vma, wasAlreadyMarked: false);
        }

        return fn.Returns(error);
    }

    /// <summary>
    /// vma_assert_write_locked(), include/linux/mmap_lock.h (v7.0): a VM_WARN_ON_ONCE_VMA where
    /// v6.4 had a VM_BUG_ON_VMA (the port stops at the warning as at a BUG).
    /// </summary>
    void Linux.VmaAssertWriteLocked(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_assert_write_locked", vma.Name);
        this.World.VmBugOn(!this.__IsVmaWriteLocked(vma, out _), $"VM_WARN_ON_ONCE_VMA(!__is_vma_write_locked({vma.Name}))");
    }

    /// <summary>
    /// vma_assert_locked(), include/linux/mmap_lock.h (v7.0), as built without lockdep: from
    /// vm_refcnt alone. Above 1 the VMA is read-locked, write-locked with readers backing off, or
    /// being excluded: locked. 0 is a bug (detached). 1 is attached and either unlocked or
    /// write-locked, so it must be write-locked.
    /// </summary>
    void VmaAssertLocked(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_assert_locked", vma.Name);
        var refcnt = vma.VmRefcnt.RefcountRead();
        if (refcnt > 1)
        {
            return;
        }

        this.World.VmBugOn(refcnt == 0, $"VM_WARN_ON_ONCE_VMA(!refcnt, {vma.Name}): detached");
        this.VmaAssertWriteLocked(vma);
    }

    /// <summary>
    /// vma_assert_stabilised(), include/linux/mmap_lock.h (v7.0), as built without lockdep: the VMA
    /// cannot change under us because mmap_lock is held (rwsem_is_locked(), which cannot tell
    /// whose hold it is, so a false negative is possible) or else because we hold a VMA lock.
    /// </summary>
    void VmaAssertStabilised(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_assert_stabilised", vma.Name);
        if (vma.VmMm.MmapLock.IsLocked())
        {
            return;
        }

        // Not held steady by mmap_lock: it must be by a VMA lock.
        this.VmaAssertLocked(vma);
    }

    /// <summary>
    /// vma_mark_detached(), include/linux/mmap_lock.h (v7.0, moved from mm/mmap_lock.c): drop the
    /// attach reference; readers can only be raising the count for a moment before they see the
    /// write lock and back off, so a count left above 0 is unlikely, and then the readers are
    /// waited for. The port keeps v6.4's signature: false attaches (vma_mark_attached()).
    /// </summary>
    void Linux.VmaMarkDetached(VmAreaStruct vma, bool detached)
    {
        if (!detached)
        {
            this.VmaMarkAttached(vma);
            return;
        }

        using var fn = this.World.Enter("vma_mark_detached", vma.Name);
        this.VmaAssertWriteLocked(vma);
        this.World.VmBugOn(vma.VmRefcnt.RefcountRead() == 0, $"vma_assert_attached({vma.Name}): WARN_ON_ONCE(!vma_is_attached(vma))");
        if (this.__VmaRefcountPutReturn(vma) != 0)
        {
            this.__VmaExcludeReadersForDetach(vma);
        }

        this.World.Emit(new VmaDetachedChanged(this.Thread, vma.VmMm.Name, vma.Name, Detached: true));
    }

    // ---- mm/mmap_lock.c ------------------------------------------------------------------

    /// <summary>get_target_refcnt(), mm/mmap_lock.c (v7.0): the flag, plus the attach reference unless detaching.</summary>
    static int GetTargetRefcnt(VmaExcludeReadersState ves) => (ves.Detaching ? 0 : 1) | VmAreaStruct.VmaLockOffset;

    /// <summary>
    /// __vma_end_exclude_readers(), mm/mmap_lock.c (v7.0; __vma_exit_locked() before): the readers
    /// are gone; take the flag back, and record whether that left the VMA detached.
    /// </summary>
    void __VmaEndExcludeReaders(VmaExcludeReadersState ves)
    {
        var vma = ves.Vma;
        this.World.VmBugOn(ves.Detached, $"VM_WARN_ON_ONCE(ves->detached): {vma.Name} already detached");
        ves.Detached = vma.VmRefcnt.SubAndTest(VmAreaStruct.VmaLockOffset, out _);
    }

    /// <summary>
    /// __vma_start_exclude_readers(), mm/mmap_lock.c (v7.0; __vma_enter_locked() before): set the
    /// flag (so no new reader gets in) unless the VMA is detached, then sleep on
    /// mm->vma_writer_wait until the readers already in have left; vma_refcount_put() wakes us.
    /// On success with readers excluded, ves->exclusive is set and the caller must end the
    /// exclusion. A killable sleep cut short by a fatal signal ends the exclusion here and returns
    /// -EINTR; otherwise 0.
    /// </summary>
    int __VmaStartExcludeReaders(VmaExcludeReadersState ves)
    {
        var vma = ves.Vma;
        using var fn = this.World.Enter("__vma_start_exclude_readers", $"{vma.Name}{(ves.Detaching ? ", detaching" : "")}");
        var tgtRefcnt = GetTargetRefcnt(ves);
        this.MmapAssertWriteLocked(vma.VmMm);

        // Only vma_mark_attached() raises a detached VMA's count, and mmap_lock keeps it away.
        if (!vma.VmRefcnt.AddNotZero(VmAreaStruct.VmaLockOffset))
        {
            ves.Detached = true;
            return fn.Returns(0);
        }

        var drained = Rcuwait.WaitEvent(
            vma.VmMm.VmaWriterWait,
            () => vma.VmRefcnt.RefcountRead() == tgtRefcnt,
            ves.State == TaskState.Killable ? () => this.World.Chance($"fatal signal for {this.Thread} while it waits for the readers of {vma.Name}", 4) : null);
        if (!drained)
        {
            this.__VmaEndExcludeReaders(ves);
            return fn.Returns(-Errno.EINTR);
        }

        ves.Exclusive = true;
        return fn.Returns(0);
    }

    /// <summary>
    /// __vma_start_write(), mm/mmap_lock.c (v7.0): read mm_lock_seq (mmap_lock is held for write),
    /// exclude readers unless the VMA is detached, set vm_lock_seq, and let readers in again (they
    /// will now see the mark and back off). Returns -EINTR, the VMA not write-locked, when a
    /// killable wait was cut short.
    /// </summary>
    int __VmaStartWrite(VmAreaStruct vma, TaskState state)
    {
        using var fn = this.World.Enter("__vma_start_write", $"{vma.Name}, {(state == TaskState.Killable ? "TASK_KILLABLE" : "TASK_UNINTERRUPTIBLE")}");
        var mmLockSeq = this.__VmaRawMmSeqnum(vma);
        var ves = new VmaExcludeReadersState(vma, state, detaching: false);
        var err = this.__VmaStartExcludeReaders(ves);
        if (err != 0)
        {
            this.World.VmBugOn(ves.Detached, $"WARN_ON_ONCE(ves.detached): {vma.Name} detached by an interrupted write lock");
            return fn.Returns(err);
        }

        // WRITE_ONCE: vma_start_read()'s early, lockless check reads vm_lock_seq.
        vma.VmLockSeq.WriteOnce(mmLockSeq);
        this.VmaWriteMarked(vma, mmLockSeq);
        if (ves.Exclusive)
        {
            this.__VmaEndExcludeReaders(ves);

            // The VMA must still be attached.
            this.World.VmBugOn(ves.Detached, $"WARN_ON_ONCE(ves.detached): {vma.Name} must stay attached while write-locked");
        }

        return fn.Returns(0);
    }

    /// <summary>
    /// __vma_exclude_readers_for_detach(), mm/mmap_lock.c (v7.0): vma_mark_detached() found readers
    /// still counted. We hold the write lock, so they are readers about to notice it and back off:
    /// wait for them, uninterruptibly, after which no reader can raise the count again and the VMA
    /// is detached.
    /// </summary>
    void __VmaExcludeReadersForDetach(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("__vma_exclude_readers_for_detach", vma.Name);
        var ves = new VmaExcludeReadersState(vma, TaskState.Uninterruptible, detaching: true);
        var err = this.__VmaStartExcludeReaders(ves);
        if (err == 0 && ves.Exclusive)
        {
            this.__VmaEndExcludeReaders(ves);
        }

        // An error does not matter if the VMA ended up detached anyway.
        this.World.VmBugOn(!ves.Detached, $"WARN_ON_ONCE(!ves.detached): {vma.Name} still has readers after the wait");
    }
}

/// <summary>The kernel of generation "7.0".</summary>
public sealed class V7_0(KernelWorld world) : Booted(world), Linux7_0;
