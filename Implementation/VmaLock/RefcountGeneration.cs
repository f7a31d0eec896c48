using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.VmaLock;

/// <summary>What vma_start_read() returned (v6.15+): the VMA, NULL, or ERR_PTR(-EAGAIN).</summary>
public enum ReadLockOutcome
{
    /// <summary>The VMA is read-locked (a reference is held).</summary>
    Locked,

    /// <summary>NULL: write-locked, excluded, or not the caller's VMA; fall back to mmap_lock.</summary>
    Failed,

    /// <summary>ERR_PTR(-EAGAIN): the VMA was detached under us; redo the lookup.</summary>
    Again,
}

/// <summary>
/// Generation "6.15": the per-VMA lock as a reference count (include/linux/mm.h,
/// include/linux/mmap_lock.h, mm/mmap_lock.c, from v6.15, 2b9f8b0f9e09 and its series). vm_refcnt
/// is 0 when the VMA is detached, 1 when attached, +1 per reader; a writer adds VMA_LOCK_OFFSET to
/// exclude new readers and sleeps on mm->vma_writer_wait until the existing ones leave. There is
/// no detached flag and no rw_semaphore. VMAs come from a SLAB_TYPESAFE_BY_RCU cache: a freed VMA
/// is reused at once, possibly by another mm, while readers still hold pointers to it, so a reader
/// checks vm_mm and the range after taking its reference.
///
/// As ported, the v6.19 form: vma_start_read() checks vm_mm itself and pins the other mm before
/// dropping its reference (9bbffee67ffd, v6.17-rc1 / 6.16.1) and returns with RCU released on
/// every failure; vma_start_write_killable() can end the wait for readers on a fatal signal. The protected virtual methods are single steps a mutant
/// may override.
/// </summary>
public class RefcountGeneration(KernelWorld world, string name) : SequenceGeneration(world, name, SequenceOrdering.V6_15)
{
    /// <summary>vm_area_cachep: freed VMAs, reused last-in first-out with no RCU delay.</summary>
    private readonly Stack<VmAreaStruct> vmAreaCache = new();

    /// <summary>From v6.15 a new VMA is write-locked before it is attached and inserted (vma_mark_attached asserts it).</summary>
    public override bool LocksNewVmaBeforeInsert => true;

    /// <summary>v6.15 faults use vmf_anon_prepare() (v6.7): a first anon_vma is never made under the VMA lock.</summary>
    public override bool AnonVmaPrepareRetriesUnderVmaLock => true;

    /// <summary>
    /// vm_area_alloc(), mm/vma_init.c (v6.15+): kmem_cache_alloc from the SLAB_TYPESAFE_BY_RCU
    /// cache (a freed VMA is reused at once), then vma_init(); vm_refcnt stays 0 (detached).
    /// </summary>
    public override VmAreaStruct VmAreaAlloc(MmStruct mm, string name, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, AddressSpace? file = null)
    {
        if (this.PopFreed() is { } recycled)
        {
            recycled.Reuse(mm, name, start, end, flags, anonVma, file);
            return recycled;
        }

        return base.VmAreaAlloc(mm, name, start, end, flags, anonVma, file);
    }

    /// <summary>Boot-time VMAs are attached already: vm_refcnt = 1.</summary>
    public override void InstallAtSetup(MmStruct mm, VmAreaStruct vma)
    {
        base.InstallAtSetup(mm, vma);
        this.World.Memory.Store(vma.VmRefcnt, 1, MemoryOrder.Plain);
    }

    /// <summary>
    /// vm_area_free(), mm/vma_init.c (v6.15+): vma_assert_detached, then kmem_cache_free. No RCU
    /// delay: SLAB_TYPESAFE_BY_RCU only keeps the memory a vm_area_struct.
    /// </summary>
    public override void VmAreaFree(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vm_area_free", vma.Name);
        this.World.VmBugOn(vma.VmRefcnt.RefcountRead() != 0, $"WARN_ON_ONCE(refcount_read(&{vma.Name}->vm_refcnt)) in vma_assert_detached");
        this.World.Emit(new VmaFreed(this.Thread, vma.VmMm.Name, vma.Name));
        using (this.World.SpinHeld(this.vmAreaCache))
        {
            this.vmAreaCache.Push(vma);
        }
    }

    /// <summary>
    /// kmem_cache_alloc()'s take of a freed object. The cache is a spinlock for the memory model:
    /// the slab allocator's own synchronisation orders everything the freeing CPU did before
    /// kmem_cache_free() before the allocating CPU's initialisation (without it, vma_init()'s
    /// stores could land before the old life's stores in coherence order).
    /// </summary>
    private VmAreaStruct? PopFreed()
    {
        using var held = this.World.SpinHeld(this.vmAreaCache);
        return this.vmAreaCache.TryPop(out var recycled) ? recycled : null;
    }

    /// <summary>
    /// vma_start_read(), include/linux/mmap_lock.h (v6.15+, with 9bbffee67ffd). Called under RCU;
    /// on failure it drops RCU itself.
    /// </summary>
    protected ReadLockOutcome VmaStartRead(MmStruct mm, VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_read", $"{mm.Name}, {vma.Name}");

        // Check before locking. A race might cause a false locked result.
        if (vma.VmLockSeq.ReadOnce() == mm.MmLockSeq.ReadOnce())
        {
            return fn.Returns(this.ReadFailed(mm, vma, ReadLockOutcome.Failed));
        }

        // With VMA_LOCK_OFFSET set the count is over VMA_REF_LIMIT, so a writer keeps us out; acquire
        // orders the checks below after the increment.
        if (!this.VmaRefcountGet(vma, out var oldcnt))
        {
            return fn.Returns(this.ReadFailed(mm, vma, oldcnt == 0 ? ReadLockOutcome.Again : ReadLockOutcome.Failed));
        }

        if (this.VmaStartReadChecksMm(mm, vma))
        {
            return fn.Returns(ReadLockOutcome.Failed);
        }

        // Overflow of the sequence counters might produce a false locked result, never a false unlocked one.
        if (vma.VmLockSeq.Plain() == this.ReadMmLockSeq(mm))
        {
            this.VmaRefcountPut(vma);
            return fn.Returns(this.ReadFailed(mm, vma, ReadLockOutcome.Failed));
        }

        this.ReadLockResult(mm, vma, true);
        return fn.Returns(ReadLockOutcome.Locked);
    }

    /// <summary>
    /// __refcount_inc_not_zero_limited_acquire(&amp;vma->vm_refcnt, &amp;oldcnt, VMA_REF_LIMIT): a reader's
    /// reference, never from 0 (detached) and never past the limit (a writer excludes readers).
    /// </summary>
    protected virtual bool VmaRefcountGet(VmAreaStruct vma, out int oldcnt) =>
        vma.VmRefcnt.IncNotZeroLimitedAcquire(VmAreaStruct.VmaRefLimit, out oldcnt);

    /// <summary>
    /// vma_start_read()'s vm_mm check (9bbffee67ffd): the VMA may have been recycled by another mm.
    /// Then pin that mm (mmgrab) before dropping the reference, because the put may wake that mm's
    /// writer, and only then release it. Returns true when the VMA was not the caller's.
    /// </summary>
    protected virtual bool VmaStartReadChecksMm(MmStruct mm, VmAreaStruct vma)
    {
        var otherMm = vma.VmMmVar.Plain();
        if (otherMm == mm)
        {
            return false;
        }

        // __mmdrop() is heavy: done after dropping RCU.
        this.World.Rcu.ReadUnlock();
        otherMm.MmGrab();
        this.VmaRefcountPut(vma);
        otherMm.MmDrop();
        this.ReadLockResult(mm, vma, false);
        return true;
    }

    /// <summary>vma_refcount_put(), include/linux/mmap_lock.h (v6.15+): copies vm_mm before the decrement, wakes a writer left alone.</summary>
    protected virtual void VmaRefcountPut(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_refcount_put", vma.Name);

        // The VMA may be freed (and reused) as soon as the count drops: use the mm read before.
        var mm = vma.VmMmVar.Plain();
        this.World.Emit(new VmaReferenceDropping(this.Thread, vma.Name, mm.Name, this.World.Current.Mm));
        if (!vma.VmRefcnt.DecAndTest(out var oldcnt) && IsVmaWriterOnly(oldcnt - 1))
        {
            Rcuwait.WakeUp(mm.VmaWriterWait);
        }
    }

    /// <summary>is_vma_writer_only(): only the writer's VMA_LOCK_OFFSET (and the attach reference) remain.</summary>
    public static bool IsVmaWriterOnly(int refcnt) => (refcnt & VmAreaStruct.VmaLockOffset) != 0 && refcnt <= VmAreaStruct.VmaLockOffset + 1;

    /// <summary>vma_end_read(), include/linux/mmap_lock.h (v6.15+): vma_refcount_put().</summary>
    public override void VmaEndRead(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_end_read", vma.Name);
        this.World.Emit(new VmaReadUnlocked(this.Thread, vma.VmMm.Name, vma.Name));
        this.VmaRefcountPut(vma);
    }

    /// <summary>
    /// vma_start_read_locked(), include/linux/mmap_lock.h (v6.15+): under mmap_lock no writer can
    /// exclude readers, so only the reference is taken (fails only on overflow).
    /// </summary>
    public override bool VmaStartReadLocked(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_read_locked", vma.Name);
        this.World.VmBugOn(!vma.VmMm.MmapLock.IsLocked(), $"mmap_assert_locked({vma.VmMm.Name})");
        if (!vma.VmRefcnt.IncNotZeroLimitedAcquire(VmAreaStruct.VmaRefLimit, out _))
        {
            return fn.Returns(this.ReadLockResult(vma.VmMm, vma, false));
        }

        return fn.Returns(this.ReadLockResult(vma.VmMm, vma, true));
    }

    /// <summary>The body of vma_start_write() (v6.15+): __vma_start_write(), waiting without interruption.</summary>
    protected override void VmaWriteLockAndMark(VmAreaStruct vma, int mmLockSeq) => this.VmaStartWriteLocked(vma, mmLockSeq, killable: false);

    /// <summary>vma_start_write_killable(), include/linux/mmap_lock.h (v6.19): the wait for readers ends on a fatal signal.</summary>
    public override int VmaStartWriteKillable(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_write_killable", vma.Name);
        if (this.IsVmaWriteLocked(vma, out var mmLockSeq))
        {
            this.World.Emit(new VmaStartWriteReturned(this.Thread, vma.VmMm.Name, vma.Name, WasAlreadyMarked: true));
            return fn.Returns(0);
        }

        var error = this.VmaStartWriteLocked(vma, mmLockSeq, killable: true);
        if (error == 0)
        {
            this.World.Emit(new VmaStartWriteReturned(this.Thread, vma.VmMm.Name, vma.Name, WasAlreadyMarked: false));
        }

        return fn.Returns(error);
    }

    /// <summary>
    /// __vma_start_write(), mm/mmap_lock.c (v6.15; v6.19 with the task state): exclude readers
    /// (unless the VMA is detached), set vm_lock_seq, let readers try again (they will see the mark).
    /// </summary>
    protected virtual int VmaStartWriteLocked(VmAreaStruct vma, int mmLockSeq, bool killable)
    {
        using var fn = this.World.Enter("__vma_start_write", $"{vma.Name}, {mmLockSeq}");
        var entered = this.VmaEnterLocked(vma, detaching: false, killable);
        if (entered < 0)
        {
            return fn.Returns(entered);
        }

        // WRITE_ONCE: the lockless early check in vma_start_read() may read it concurrently.
        this.StoreVmLockSeq(vma, mmLockSeq);
        if (entered > 0)
        {
            var detached = this.VmaExitLocked(vma);
            this.World.VmBugOn(detached, $"WARN_ON_ONCE(detached): {vma.Name} must stay attached while write-locked");
        }

        return fn.Returns(0);
    }

    /// <summary>
    /// __vma_enter_locked(), mm/mmap_lock.c (v6.15; v6.19 killable): add VMA_LOCK_OFFSET unless the
    /// VMA is detached, then sleep on mm->vma_writer_wait until only the writer (and, unless
    /// detaching, the attach reference) remain. Returns 1 when readers are now excluded, 0 when the
    /// VMA was detached, -EINTR when a fatal signal ended the wait (the offset is taken back).
    /// </summary>
    protected int VmaEnterLocked(VmAreaStruct vma, bool detaching, bool killable)
    {
        using var fn = this.World.Enter("__vma_enter_locked", $"{vma.Name}{(detaching ? ", detaching" : "")}");
        var target = VmAreaStruct.VmaLockOffset + (detaching ? 0 : 1);

        // A detached VMA can only be raised by vma_mark_attached(): no reader can get in.
        if (!vma.VmRefcnt.AddNotZero(VmAreaStruct.VmaLockOffset))
        {
            return fn.Returns(0);
        }

        var drained = Rcuwait.WaitEvent(
            vma.VmMm.VmaWriterWait,
            () => vma.VmRefcnt.RefcountRead() == target,
            killable ? () => this.World.Chance($"fatal signal for {this.Thread} while it waits for the readers of {vma.Name}", 4) : null);
        if (!drained)
        {
            this.VmaEnterLockedInterrupted(vma);
            return fn.Returns(-Errno.EINTR);
        }

        return fn.Returns(1);
    }

    /// <summary>__vma_enter_locked() after a fatal signal ended the wait (v6.19): take VMA_LOCK_OFFSET back.</summary>
    protected virtual void VmaEnterLockedInterrupted(VmAreaStruct vma)
    {
        var detached = this.VmaExitLocked(vma);
        this.World.VmBugOn(detached, $"WARN_ON_ONCE(detached) after an interrupted wait on {vma.Name}");
    }

    /// <summary>__vma_exit_locked(), mm/mmap_lock.c (v6.15): take VMA_LOCK_OFFSET back; true when that detached the VMA.</summary>
    protected bool VmaExitLocked(VmAreaStruct vma) => vma.VmRefcnt.SubAndTest(VmAreaStruct.VmaLockOffset, out _);

    /// <summary>vma_mark_attached(), include/linux/mmap_lock.h (v6.15): a write-locked, detached VMA gets vm_refcnt = 1 (release).</summary>
    public override void VmaMarkAttached(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_mark_attached", vma.Name);
        this.VmaAssertWriteLocked(vma);
        this.World.VmBugOn(vma.VmRefcnt.RefcountRead() != 0, $"vma_assert_detached({vma.Name})");
        vma.VmRefcnt.RefcountSetRelease(1);
        this.World.Emit(new VmaDetachedChanged(this.Thread, vma.VmMm.Name, vma.Name, Detached: false));
    }

    /// <summary>
    /// vma_mark_detached(), mm/mmap_lock.c (v6.15): drop the attach reference; if readers still
    /// hold (they can only be backing off a write-locked VMA), wait for them to leave.
    /// </summary>
    public override void VmaMarkDetached(VmAreaStruct vma, bool detached)
    {
        if (!detached)
        {
            this.VmaMarkAttached(vma);
            return;
        }

        using var fn = this.World.Enter("vma_mark_detached", vma.Name);
        this.VmaAssertWriteLocked(vma);
        this.World.VmBugOn(vma.VmRefcnt.RefcountRead() == 0, $"vma_assert_attached({vma.Name}): WARN_ON_ONCE(!refcount_read(&vma->vm_refcnt))");

        // We are the only writer: no vma_refcount_put() needed.
        if (!vma.VmRefcnt.DecAndTest(out _) && this.VmaEnterLocked(vma, detaching: true, killable: false) > 0)
        {
            this.World.VmBugOn(!this.VmaExitLocked(vma), $"WARN_ON_ONCE(!detached): {vma.Name} still has readers after the wait");
        }

        this.World.Emit(new VmaDetachedChanged(this.Thread, vma.VmMm.Name, vma.Name, Detached: true));
    }

    /// <summary>
    /// lock_vma_under_rcu(), mm/mmap_lock.c (v6.19): walk the tree under RCU, vma_start_read()
    /// (which drops RCU on failure), redo the walk on -EAGAIN, drop RCU, check the range.
    /// </summary>
    public override VmAreaStruct? LockVmaUnderRcu(MmStruct mm, ulong address)
    {
        using var fn = this.World.Enter("lock_vma_under_rcu", $"{mm.Name}, {VmAreaStruct.Hex(address)}");
        this.World.Rcu.ReadLock();
        while (true)
        {
            var vma = mm.MmMt.MasWalk(address);
            if (vma is null)
            {
                this.World.Rcu.ReadUnlock();
                break;
            }

            var outcome = this.VmaStartRead(mm, vma);
            if (outcome == ReadLockOutcome.Again)
            {
                // The VMA was detached after we found it: the area was replaced.
                this.World.CountVmEvent("VMA_LOCK_MISS");
                this.World.Rcu.ReadLock();
                continue;
            }

            if (outcome == ReadLockOutcome.Failed)
            {
                this.LockVmaStartReadFailed(vma);
                break;
            }

            // A stable reference: RCU is no longer needed. Is it the right VMA?
            this.World.Rcu.ReadUnlock();
            if (this.LockVmaWrongVma(mm, vma, address))
            {
                this.VmaEndRead(vma);
                break;
            }

            this.World.Emit(new FaultLockedVma(this.Thread, mm.Name, vma.Name, address));
            return fn.Returns(vma);
        }

        this.World.CountVmEvent("VMA_LOCK_ABORT");
        return fn.Returns<VmAreaStruct?>(null);
    }

    /// <summary>lock_vma_under_rcu() after vma_start_read() failed: it already dropped RCU and its reference; nothing to undo.</summary>
    protected virtual void LockVmaStartReadFailed(VmAreaStruct vma)
    {
    }

    /// <summary>The check after locking: the range may have changed (and, before 9bbffee67ffd, the VMA may belong to another mm).</summary>
    protected virtual bool LockVmaWrongVma(MmStruct mm, VmAreaStruct vma, ulong address) =>
        address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain();

    private ReadLockOutcome ReadFailed(MmStruct mm, VmAreaStruct vma, ReadLockOutcome outcome)
    {
        this.World.Rcu.ReadUnlock();
        this.ReadLockResult(mm, vma, false);
        return outcome;
    }
}
