using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.VmaLock;

/// <summary>
/// Generations "6.4", "6.5" and "6.14": a per-VMA rw_semaphore plus the two sequence counters. A
/// VMA is write-locked iff vm_lock_seq == mm_lock_seq; vma_end_write_all() releases them all by
/// bumping mm_lock_seq. Ports include/linux/mm.h, include/linux/mmap_lock.h and
/// lock_vma_under_rcu() of mm/memory.c at v6.4 / v6.5 / v6.14, with the stable fix all carry
/// (657b5146955e: anon_vma is checked after vma_start_read).
///
/// The protected virtual methods are single steps of those functions, each overridable by a mutant.
/// </summary>
public class SeqRwsemGeneration(KernelWorld world, string name, SequenceOrdering ordering) : SequenceGeneration(world, name, ordering)
{
    /// <summary>v6.14 has vmf_anon_prepare(); v6.4 and v6.5 call anon_vma_prepare() under the VMA lock.</summary>
    public override bool AnonVmaPrepareRetriesUnderVmaLock => this.Ordering.Seqcount;

    /// <summary>vm_area_free(), kernel/fork.c, v6.4: call_rcu(vm_area_free_rcu_cb).</summary>
    public override void VmAreaFree(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vm_area_free", vma.Name);
        this.World.Rcu.CallRcu($"vm_area_free_rcu_cb({vma.Name})", () =>
        {
            // The VMA is free only once nobody holds its lock.
            this.World.VmBugOn(vma.VmLock.IsLocked(), $"VM_BUG_ON_VMA(rwsem_is_locked(&{vma.Name}->vm_lock->lock))");
            vma.FreeWithLock("vm_area_free_rcu_cb");
            this.World.Emit(new VmaFreed(this.Thread, vma.VmMm.Name, vma.Name));
        });
    }

    /// <summary>vma_start_read(), include/linux/mm.h, v6.4/v6.5/v6.14.</summary>
    protected bool VmaStartRead(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_read", vma.Name);
        var mm = vma.VmMm;

        // Check before locking. A race might cause a false locked result.
        if (vma.VmLockSeq.Read(this.Ordering.VmLockSeq) == mm.MmLockSeq.ReadOnce())
        {
            return fn.Returns(this.ReadLockResult(vma.VmMm, vma, false));
        }

        if (!vma.VmLock.DownReadTrylock())
        {
            return fn.Returns(this.ReadLockResult(vma.VmMm, vma, false));
        }

        // False unlocked results are impossible: vm_lock_seq is changed under vm_lock held for write.
        if (this.VmaStartReadRecheck(vma))
        {
            vma.VmLock.UpRead();
            return fn.Returns(this.ReadLockResult(vma.VmMm, vma, false));
        }

        return fn.Returns(this.ReadLockResult(vma.VmMm, vma, true));
    }

    /// <summary>
    /// vma_start_read()'s re-check under vm_lock: is the VMA write-locked in the current sequence?
    /// (v6.5 loads mm_lock_seq with smp_load_acquire.)
    /// </summary>
    protected virtual bool VmaStartReadRecheck(VmAreaStruct vma) =>
        vma.VmLockSeq.Plain() == this.ReadMmLockSeq(vma.VmMm);

    /// <summary>vma_end_read(), include/linux/mm.h, v6.4: RCU keeps the VMA alive until up_read() is done with it.</summary>
    public override void VmaEndRead(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_end_read", vma.Name);
        this.World.Emit(new VmaReadUnlocked(this.Thread, vma.VmMm.Name, vma.Name));
        var rcu = this.VmaEndReadUnderRcu;
        if (rcu)
        {
            this.World.Rcu.ReadLock(); // keeps the VMA alive until the end of up_read()
        }

        vma.VmLock.UpRead();
        if (rcu)
        {
            this.World.Rcu.ReadUnlock();
        }
    }

    /// <summary>
    /// Whether vma_end_read() holds rcu_read_lock() around up_read(): up_read() may still touch the
    /// rw_semaphore (to wake a waiting writer) after it released it, when the writer may already
    /// have got in, detached the VMA and queued its freeing (the review of the v1 series, PROTOCOL
    /// B9).
    /// </summary>
    protected virtual bool VmaEndReadUnderRcu => true;

    /// <summary>
    /// vma_start_read_locked(), include/linux/mm.h, v6.13/v6.14 (the rw_semaphore form): with
    /// mmap_lock held, no writer can mark the VMA, so down_read() needs no sequence check.
    /// </summary>
    public override bool VmaStartReadLocked(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_read_locked", vma.Name);
        this.World.VmBugOn(!vma.VmMm.MmapLock.IsLocked(), $"mmap_assert_locked({vma.VmMm.Name})");
        vma.VmLock.DownRead();
        return fn.Returns(this.ReadLockResult(vma.VmMm, vma, true));
    }

    /// <summary>
    /// The body of vma_start_write(): take vm_lock for write (waiting for the current readers to
    /// drain), store vm_lock_seq = mm_lock_seq, release vm_lock at once.
    /// </summary>
    protected override void VmaWriteLockAndMark(VmAreaStruct vma, int mmLockSeq)
    {
        vma.VmLock.DownWrite();
        this.StoreVmLockSeq(vma, mmLockSeq);
        vma.VmLock.UpWrite();
    }

    /// <summary>vma_mark_detached(), include/linux/mm.h, v6.4: only a write-locked VMA is detached.</summary>
    public override void VmaMarkDetached(VmAreaStruct vma, bool detached)
    {
        using var fn = this.World.Enter("vma_mark_detached", $"{vma.Name}, {(detached ? "true" : "false")}");
        if (detached)
        {
            this.VmaAssertWriteLocked(vma);
        }

        vma.Detached.SetPlain(detached);
        this.World.Emit(new VmaDetachedChanged(this.Thread, vma.VmMm.Name, vma.Name, detached));
    }

    /// <summary>lock_vma_under_rcu(), mm/memory.c: v6.5 (v6.4 with 657b5146955e), or v6.14's body.</summary>
    public override VmAreaStruct? LockVmaUnderRcu(MmStruct mm, ulong address)
    {
        using var fn = this.World.Enter("lock_vma_under_rcu", $"{mm.Name}, {VmAreaStruct.Hex(address)}");
        this.World.Rcu.ReadLock();
        var vma = this.Ordering.Seqcount ? this.LockVmaV6_14(mm, address) : this.LockVmaV6_5(mm, address);
        if (vma is not null)
        {
            this.World.Emit(new FaultLockedVma(this.Thread, mm.Name, vma.Name, address));
        }
        else
        {
            this.World.CountVmEvent("VMA_LOCK_ABORT");
        }

        this.World.Rcu.ReadUnlock();
        return fn.Returns(vma);
    }

    /// <summary>The body of lock_vma_under_rcu() at v6.5 (v6.4 with 657b5146955e), under RCU: the locked VMA or null.</summary>
    private VmAreaStruct? LockVmaV6_5(MmStruct mm, ulong address)
    {
        while (true)
        {
            var vma = mm.MmMt.MasWalk(address);
            if (vma is null || !vma.IsAnonymous || (this.ChecksAnonVmaBeforeLock && vma.AnonVma.Plain() is null) || !this.VmaStartRead(vma))
            {
                return null;
            }

            // find_mergeable_anon_vma uses adjacent VMAs, which are not locked: check after vma_start_read.
            if ((!this.ChecksAnonVmaBeforeLock && vma.AnonVma.Plain() is null) || this.UserfaultfdArmed(vma))
            {
                this.VmaEndRead(vma);
                return null;
            }

            // vm_start/vm_end might have changed before we locked the VMA.
            if (address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
            {
                this.LockVmaRangeChanged(vma);
                return null;
            }

            // The VMA may have been isolated after we found it: look again.
            if (!this.LockVmaIsDetached(vma))
            {
                return vma;
            }

            this.VmaEndRead(vma);
            this.World.CountVmEvent("VMA_LOCK_MISS");
        }
    }

    /// <summary>
    /// The body of lock_vma_under_rcu() at v6.14, under RCU: the detached re-check comes first, and
    /// anon_vma is left to the fault handler (vmf_anon_prepare).
    /// </summary>
    private VmAreaStruct? LockVmaV6_14(MmStruct mm, ulong address)
    {
        while (true)
        {
            var vma = mm.MmMt.MasWalk(address);
            if (vma is null || !this.VmaStartRead(vma))
            {
                return null;
            }

            // Check if the VMA got isolated after we found it.
            if (this.LockVmaIsDetached(vma))
            {
                this.VmaEndRead(vma);
                this.World.CountVmEvent("VMA_LOCK_MISS");
                continue;
            }

            // vm_start/vm_end might have changed before we locked the VMA.
            if (address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
            {
                this.LockVmaRangeChanged(vma);
                return null;
            }

            return vma;
        }
    }

    /// <summary>
    /// Whether lock_vma_under_rcu() looks at vma->anon_vma before vma_start_read(), as v6.4
    /// shipped: a concurrent mremap(MREMAP_DONTUNMAP) can then unlink it before the lock is
    /// taken (657b5146955e moved the check after it).
    /// </summary>
    protected virtual bool ChecksAnonVmaBeforeLock => false;

    /// <summary>lock_vma_under_rcu()'s range re-check failed: drop the read lock (goto inval_end_read).</summary>
    protected virtual void LockVmaRangeChanged(VmAreaStruct vma) => this.VmaEndRead(vma);

    /// <summary>lock_vma_under_rcu()'s re-check: <c>if (vma->detached)</c>.</summary>
    protected virtual bool LockVmaIsDetached(VmAreaStruct vma) => vma.Detached.Plain();

    /// <summary>userfaultfd_armed(): vm_flags has VM_UFFD_MISSING.</summary>
    private bool UserfaultfdArmed(VmAreaStruct vma) => (vma.VmFlags.Plain() & (ulong)VmFlags.UffdMissing) != 0;
}
