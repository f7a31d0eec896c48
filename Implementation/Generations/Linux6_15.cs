using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>What vma_start_read() returns from v6.15: the VMA, NULL, or ERR_PTR(-EAGAIN).</summary>
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
/// Generation "6.15": the per-VMA lock as a reference count (2b9f8b0f9e09 and its series, v6.15;
/// include/linux/mmap_lock.h, mm/mmap_lock.c, mm/vma_init.c). vm_refcnt is 0 when the VMA is
/// detached, 1 when attached, +1 per reader; a writer adds VMA_LOCK_OFFSET to exclude new readers
/// and sleeps on mm->vma_writer_wait until the existing ones leave. There is no detached flag and
/// no rw_semaphore. VMAs come from a SLAB_TYPESAFE_BY_RCU cache: a freed VMA is reused at once,
/// possibly by another mm, while readers still hold pointers to it, so a reader checks vm_mm and
/// the range after taking its reference.
/// <para>
/// As ported, the v6.19 form: vma_start_read() checks vm_mm itself and pins the other mm before
/// dropping its reference (9bbffee67ffd, v6.17-rc1 / 6.16.1) and returns with RCU released on
/// every failure; vma_start_write_killable() can end the wait for readers on a fatal signal.
/// Changes: vm_area_alloc(), vm_area_free(), vma_start_read() (now taking the mm),
/// vma_refcount_put() (new), vma_end_read(), vma_start_read_locked(), vma_start_write(),
/// vma_start_write_killable(), __vma_start_write(), __vma_enter_locked(), __vma_exit_locked()
/// (new), vma_mark_attached(), vma_mark_detached(), lock_vma_under_rcu() (now in mm/mmap_lock.c),
/// vma_iter_store_new().
/// </para>
/// </summary>
public interface Linux6_15 : Linux6_14
{
    /// <summary>Boot-time VMAs are attached already: vm_refcnt = 1.</summary>
    void Linux.InstallAtSetup(MmStruct mm, VmAreaStruct vma)
    {
        mm.MmMt.Populate(vma);
        this.World.Memory.Store(vma.VmRefcnt, 1, MemoryOrder.Plain);
    }

    // ---- mm/vma_init.c -------------------------------------------------------------------

    /// <summary>
    /// vm_area_alloc(), mm/vma_init.c (v6.15+): kmem_cache_alloc from the SLAB_TYPESAFE_BY_RCU
    /// cache (a freed VMA is reused at once), then vma_init(); vm_refcnt stays 0 (detached).
    /// </summary>
    VmAreaStruct Linux.VmAreaAlloc(MmStruct mm, VmaName name, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, AddressSpace? file)
    {
        if (this.KmemCacheAllocFreed() is { } recycled)
        {
            recycled.Reuse(mm, name, start, end, flags, anonVma, file);
            return recycled;
        }

        return this.VmaCreated(new VmAreaStruct(this.World, mm, name, start, end, flags, anonVma, UnsignedVmLockSeq, file, excludeReadersFlag: this.ExcludeReadersFlagName));
    }

    /// <summary>What this version calls vm_refcnt's exclusion bit (traces print it): VMA_LOCK_OFFSET until v7.0 renames it.</summary>
    string ExcludeReadersFlagName => VmAreaStruct.VmaLockOffsetName;

    /// <summary>
    /// vm_area_free(), mm/vma_init.c (v6.15+): vma_assert_detached(), then kmem_cache_free(). No
    /// RCU delay: SLAB_TYPESAFE_BY_RCU only keeps the memory a vm_area_struct.
    /// </summary>
    void Linux.VmAreaFree(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vm_area_free", vma.Name);
        this.World.VmBugOn(vma.VmRefcnt.RefcountRead() != 0, $"WARN_ON_ONCE(refcount_read(&{vma.Name}->vm_refcnt)) in vma_assert_detached");
        this.World.Emit(new VmaFreed(this.Thread, vma.VmMm.Name, vma.Name));
        using (this.World.SpinHeld(this.VmAreaCachep))
        {
            this.VmAreaCachep.Push(vma);
        }
    }

    /// <summary>
    /// kmem_cache_alloc()'s take of a freed object. The cache is a spinlock for the memory model:
    /// the slab allocator's own synchronisation orders everything the freeing CPU did before
    /// kmem_cache_free() before the allocating CPU's initialisation (without it, vma_init()'s
    /// stores could land before the old life's stores in coherence order).
    /// </summary>
    protected sealed VmAreaStruct? KmemCacheAllocFreed()
    {
        using var held = this.World.SpinHeld(this.VmAreaCachep);
        return this.VmAreaCachep.TryPop(out var recycled) ? recycled : null;
    }

    // ---- include/linux/mmap_lock.h, mm/mmap_lock.c --------------------------------------

    /// <summary>
    /// vma_start_read(), mm/mmap_lock.c (v6.15+, v6.19 with 9bbffee67ffd): called under RCU; on
    /// failure it drops RCU itself. The VMA passed to it cannot be used if the function fails.
    /// </summary>
    ReadLockOutcome VmaStartRead(MmStruct mm, VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_read", $"{mm.Name}, {vma.Name}");

        // The early check, without a reference: it may only err towards "locked", so plain
        // READ_ONCEs do.
        if (vma.VmLockSeq.ReadOnce() == mm.MmLockSeq.ReadOnce())
        {
            return fn.Returns(this.VmaStartReadErr(mm, vma, ReadLockOutcome.Failed));
        }

        // A writer's VMA_LOCK_OFFSET puts the count over VMA_REF_LIMIT, so the increment fails
        // while one excludes readers. It is an acquire: the vm_lock_seq re-check and the checks
        // lock_vma_under_rcu() makes next must not move above it.
        if (!vma.VmRefcnt.IncNotZeroLimitedAcquire(VmAreaStruct.VmaRefLimit, out var oldcnt))
        {
            // Return -EAGAIN if vma got detached from under us.
            return fn.Returns(this.VmaStartReadErr(mm, vma, oldcnt == 0 ? ReadLockOutcome.Again : ReadLockOutcome.Failed));
        }

        // Recycled into another mm meanwhile: that mm may be freed between our put and the
        // wake-up the put may do, so pin it first, and use the pinned copy, not vma->vm_mm, since
        // the VMA itself may be gone after the put (9bbffee67ffd).
        var otherMm = vma.VmMmVar.Plain();
        if (otherMm != mm)
        {
            return fn.Returns(this.VmaStartReadErrUnstable(mm, vma, otherMm));
        }

        // The re-check with a reference held: a wrap can only give a false "locked"; the acquire
        // pairs with vma_end_write_all()'s release.
        if (vma.VmLockSeq.Plain() == mm.MmLockSeq.LoadAcquire())
        {
            this.VmaRefcountPut(vma);
            return fn.Returns(this.VmaStartReadErr(mm, vma, ReadLockOutcome.Failed));
        }

        this.VmaStartReadReturned(mm, vma, true);
        return fn.Returns(ReadLockOutcome.Locked);
    }

    /// <summary>vma_start_read()'s <c>err:</c> label: drop RCU, return NULL or ERR_PTR(-EAGAIN).</summary>
    protected sealed ReadLockOutcome VmaStartReadErr(MmStruct mm, VmAreaStruct vma, ReadLockOutcome outcome)
    {
        this.World.Rcu.ReadUnlock();
        this.VmaStartReadReturned(mm, vma, false);
        return outcome;
    }

    /// <summary>
    /// vma_start_read()'s <c>err_unstable:</c> label (9bbffee67ffd): grab the other mm before
    /// releasing vma->vm_refcnt; __mmdrop() is a heavy operation, do it after dropping RCU lock.
    /// </summary>
    protected sealed ReadLockOutcome VmaStartReadErrUnstable(MmStruct mm, VmAreaStruct vma, MmStruct otherMm)
    {
        this.World.Rcu.ReadUnlock();
        otherMm.MmGrab();
        this.VmaRefcountPut(vma);
        otherMm.MmDrop();
        this.VmaStartReadReturned(mm, vma, false);
        return ReadLockOutcome.Failed;
    }

    /// <summary>
    /// vma_refcount_put(), include/linux/mmap_lock.h (v6.15+): copies vm_mm before the decrement
    /// (the VMA may be freed and reused as soon as the count drops) and wakes a writer left alone.
    /// </summary>
    void VmaRefcountPut(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_refcount_put", vma.Name);

        // Use a copy of vm_mm in case vma is freed after we drop vm_refcnt.
        var mm = vma.VmMmVar.Plain();
        this.World.Emit(new VmaReferenceDropping(this.Thread, vma.Name, mm.Name, this.World.Current.Mm));
        if (!vma.VmRefcnt.DecAndTest(out var oldcnt) && IsVmaWriterOnly(oldcnt - 1))
        {
            Rcuwait.WakeUp(mm.VmaWriterWait);
        }
    }

    /// <summary>is_vma_writer_only(), include/linux/mmap_lock.h: only the writer's VMA_LOCK_OFFSET (and the attach reference) remain.</summary>
    static bool IsVmaWriterOnly(int refcnt) => (refcnt & VmAreaStruct.VmaLockOffset) != 0 && refcnt <= VmAreaStruct.VmaLockOffset + 1;

    /// <summary>vma_end_read(), include/linux/mmap_lock.h (v6.15+): vma_refcount_put().</summary>
    void Linux.VmaEndRead(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_end_read", vma.Name);
        this.World.Emit(new VmaReadUnlocked(this.Thread, vma.VmMm.Name, vma.Name));
        this.VmaRefcountPut(vma);
    }

    /// <summary>
    /// vma_start_read_locked(), include/linux/mmap_lock.h (v6.15+): under mmap_lock no writer can
    /// exclude readers, so only the reference is taken (it fails only on overflow).
    /// </summary>
    bool Linux.VmaStartReadLocked(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_read_locked", vma.Name);
        this.World.VmBugOn(!vma.VmMm.MmapLock.IsLocked(), $"mmap_assert_locked({vma.VmMm.Name})");
        if (!vma.VmRefcnt.IncNotZeroLimitedAcquire(VmAreaStruct.VmaRefLimit, out _))
        {
            return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
        }

        return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, true));
    }

    /// <summary>vma_start_write(), include/linux/mmap_lock.h (v6.15+): __vma_start_write(), waiting without interruption.</summary>
    void Linux.VmaStartWrite(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_write", vma.Name);
        if (this.__IsVmaWriteLocked(vma, out var mmLockSeq))
        {
            this.VmaStartWriteReturned(vma, wasAlreadyMarked: true);
            return;
        }

        this.__VmaStartWrite(vma, mmLockSeq, killable: false);
        this.VmaStartWriteReturned(vma, wasAlreadyMarked: false);
    }

    /// <summary>vma_start_write_killable(), include/linux/mmap_lock.h (v6.19): the wait for readers ends on a fatal signal.</summary>
    int Linux.VmaStartWriteKillable(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_write_killable", vma.Name);
        if (this.__IsVmaWriteLocked(vma, out var mmLockSeq))
        {
            this.VmaStartWriteReturned(vma, wasAlreadyMarked: true);
            return fn.Returns(0);
        }

        var error = this.__VmaStartWrite(vma, mmLockSeq, killable: true);
        if (error == 0)
        {
            this.VmaStartWriteReturned(vma, wasAlreadyMarked: false);
        }

        return fn.Returns(error);
    }

    /// <summary>
    /// __vma_start_write(), mm/mmap_lock.c (v6.15; v6.19 with the task state): exclude readers
    /// (unless the VMA is detached), set vm_lock_seq, let readers try again (they will see the mark).
    /// </summary>
    int __VmaStartWrite(VmAreaStruct vma, int mmLockSeq, bool killable)
    {
        using var fn = this.World.Enter("__vma_start_write", $"{vma.Name}, {mmLockSeq}");
        var locked = this.__VmaEnterLocked(vma, detaching: false, killable);
        if (locked < 0)
        {
            return fn.Returns(locked);
        }

        // WRITE_ONCE: vma_start_read()'s early check reads vm_lock_seq without a reference.
        vma.VmLockSeq.WriteOnce(mmLockSeq);
        this.VmaWriteMarked(vma, mmLockSeq);
        if (locked > 0)
        {
            var detached = this.__VmaExitLocked(vma);

            // vma should remain attached.
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
    int __VmaEnterLocked(VmAreaStruct vma, bool detaching, bool killable)
    {
        using var fn = this.World.Enter("__vma_enter_locked", $"{vma.Name}{(detaching ? ", detaching" : "")}");
        var tgtRefcnt = VmAreaStruct.VmaLockOffset + (detaching ? 0 : 1);

        // A detached VMA's count can only be raised by vma_mark_attached(): readers never take a
        // reference from 0.
        if (!vma.VmRefcnt.AddNotZero(VmAreaStruct.VmaLockOffset))
        {
            return fn.Returns(0);
        }

        var drained = Rcuwait.WaitEvent(
            vma.VmMm.VmaWriterWait,
            () => vma.VmRefcnt.RefcountRead() == tgtRefcnt,
            killable ? () => this.World.Chance($"fatal signal for {this.Thread} while it waits for the readers of {vma.Name}", 4) : null);
        if (!drained)
        {
            var detached = this.__VmaExitLocked(vma);
            this.World.VmBugOn(detached, $"WARN_ON_ONCE(detached) after an interrupted wait on {vma.Name}");
            return fn.Returns(-Errno.EINTR);
        }

        return fn.Returns(1);
    }

    /// <summary>__vma_exit_locked(), mm/mmap_lock.c (v6.15): take VMA_LOCK_OFFSET back; true when that detached the VMA.</summary>
    bool __VmaExitLocked(VmAreaStruct vma) => vma.VmRefcnt.SubAndTest(VmAreaStruct.VmaLockOffset, out _);

    /// <summary>vma_mark_attached(), include/linux/mmap_lock.h (v6.15): a write-locked, detached VMA gets vm_refcnt = 1 (release).</summary>
    void Linux.VmaMarkAttached(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_mark_attached", vma.Name);
        this.VmaAssertWriteLocked(vma);
        this.World.VmBugOn(vma.VmRefcnt.RefcountRead() != 0, $"vma_assert_detached({vma.Name})");
        vma.VmRefcnt.RefcountSetRelease(1);
        this.World.Emit(new VmaDetachedChanged(this.Thread, vma.VmMm.Name, vma.Name, Detached: false));
    }

    /// <summary>
    /// vma_mark_detached(), mm/mmap_lock.c (v6.15): drop the attach reference; if readers still
    /// hold (they can only be backing off a write-locked VMA), wait for them to leave. The port
    /// keeps v6.4's signature: its callers pass true (false attaches: vma_mark_attached()).
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
        this.World.VmBugOn(vma.VmRefcnt.RefcountRead() == 0, $"vma_assert_attached({vma.Name}): WARN_ON_ONCE(!refcount_read(&vma->vm_refcnt))");

        // Only this writer can be taking the offset back, so a plain decrement does; readers that
        // raced in see the write mark and leave again, so a raised count is rarely seen here.
        if (!vma.VmRefcnt.DecAndTest(out _) && this.__VmaEnterLocked(vma, detaching: true, killable: false) > 0)
        {
            // Wait until vma is detached with no readers.
            this.World.VmBugOn(!this.__VmaExitLocked(vma), $"WARN_ON_ONCE(!detached): {vma.Name} still has readers after the wait");
        }

        this.World.Emit(new VmaDetachedChanged(this.Thread, vma.VmMm.Name, vma.Name, Detached: true));
    }

    /// <summary>
    /// lock_vma_under_rcu(), mm/mmap_lock.c (v6.19): walk the tree under RCU, vma_start_read()
    /// (which drops RCU on failure), redo the walk on -EAGAIN, drop RCU, check the range.
    /// </summary>
    VmAreaStruct? Linux.LockVmaUnderRcu(MmStruct mm, ulong address)
    {
        using var fn = this.World.Enter("lock_vma_under_rcu", $"{mm.Name}, {VmAreaStruct.Hex(address)}");
        while (true) // retry:
        {
            this.World.Rcu.ReadLock();
            var vma = mm.MmMt.MasWalk(address);
            if (vma is null)
            {
                this.World.Rcu.ReadUnlock();
                return fn.Returns(this.LockVmaUnderRcuInval6_15());
            }

            var locked = this.VmaStartRead(mm, vma);
            if (locked == ReadLockOutcome.Again)
            {
                // Check if the VMA got isolated after we found it: the area was replaced with another one.
                this.World.CountVmEvent("VMA_LOCK_MISS");
                this.VmaLookupRetried(mm, vma);
                continue;
            }

            if (locked == ReadLockOutcome.Failed)
            {
                // Failed to lock the VMA.
                return fn.Returns(this.LockVmaUnderRcuInval6_15());
            }

            // Locked and not isolated: every field may be read from here on, not only those RCU
            // readers may look at.
            this.World.Rcu.ReadUnlock();

            // Check if the vma we locked is the right one.
            if (address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
            {
                this.VmaEndRead(vma);
                return fn.Returns(this.LockVmaUnderRcuInval6_15());
            }

            this.World.Emit(new FaultLockedVma(this.Thread, mm.Name, vma.Name, address));
            return fn.Returns(vma);
        }
    }

    /// <summary>lock_vma_under_rcu()'s <c>inval:</c> label (v6.15+, RCU already dropped): count VMA_LOCK_ABORT, return NULL.</summary>
    protected sealed VmAreaStruct? LockVmaUnderRcuInval6_15()
    {
        this.World.CountVmEvent("VMA_LOCK_ABORT");
        return null;
    }

    // ---- mm/vma.h ------------------------------------------------------------------------

    /// <summary>
    /// vma_iter_store_new(), mm/vma.h (v6.15): vma_mark_attached(), then the store. Its callers
    /// write-lock the new VMA first (vma_mark_attached() asserts it); the port takes that lock here.
    /// </summary>
    void Linux.VmaIterStoreNew(VmAreaStruct vma, ulong start, ulong end)
    {
        this.VmaStartWrite(vma);
        this.VmaMarkAttached(vma);
        vma.VmMm.MmMt.Store(vma, start, end);
    }
}

/// <summary>The kernel of generation "6.15".</summary>
public sealed class V6_15(KernelWorld world) : Booted(world), Linux6_15;
