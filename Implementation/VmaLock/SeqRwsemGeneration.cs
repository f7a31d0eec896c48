using System.Globalization;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.VmaLock;

/// <summary>
/// What distinguishes the rw_semaphore + sequence-count versions: the orderings v6.5 fixed
/// (b1f02b95758d, "mm: fix memory ordering for mm_lock_seq and vm_lock_seq": how vm_lock_seq is
/// read and written, how vma_end_write_all stores mm_lock_seq, how vma_start_read's re-check loads
/// it), and whether mm_lock_seq is a seqcount (v6.14, eb449bd96954: incremented by
/// mmap_write_lock and again by vma_end_write_all, so it is odd while mmap_lock is write-held).
/// </summary>
public sealed record SeqRwsemOrdering(MemoryOrder VmLockSeq, MemoryOrder EndWriteAllStore, MemoryOrder RecheckLoad, bool Seqcount = false)
{
    /// <summary>v6.4: plain vm_lock_seq, WRITE_ONCE / READ_ONCE of mm_lock_seq.</summary>
    public static readonly SeqRwsemOrdering V6_4 = new(MemoryOrder.Plain, MemoryOrder.Once, MemoryOrder.Once);

    /// <summary>v6.5: READ_ONCE/WRITE_ONCE vm_lock_seq, smp_store_release / smp_load_acquire of mm_lock_seq.</summary>
    public static readonly SeqRwsemOrdering V6_5 = new(MemoryOrder.Once, MemoryOrder.Release, MemoryOrder.Acquire);

    /// <summary>
    /// v6.14: mm_lock_seq is a seqcount_t (raw_write_seqcount begin/end: plain increments with
    /// smp_wmb; raw_read_seqcount: READ_ONCE then smp_rmb); vm_lock_seq is unsigned, UINT_MAX at first.
    /// </summary>
    public static readonly SeqRwsemOrdering V6_14 = new(MemoryOrder.Once, MemoryOrder.Plain, MemoryOrder.Once, Seqcount: true);
}

/// <summary>
/// Generations "6.4", "6.5" and "6.14": a per-VMA rw_semaphore plus the two sequence counters. A
/// VMA is write-locked iff vm_lock_seq == mm_lock_seq; vma_end_write_all() releases them all by
/// bumping mm_lock_seq. Ports include/linux/mm.h, include/linux/mmap_lock.h and
/// lock_vma_under_rcu() of mm/memory.c at v6.4 / v6.5 / v6.14, with the stable fix all carry
/// (657b5146955e: anon_vma is checked after vma_start_read).
///
/// The protected virtual methods are single steps of those functions, each overridable by a mutant.
/// </summary>
public class SeqRwsemGeneration(KernelWorld world, string name, SeqRwsemOrdering ordering) : VmaLockGeneration(world)
{
    public override string Name { get; } = name;

    protected SeqRwsemOrdering Ordering { get; } = ordering;

    private string Thread => this.World.Current.Name;

    /// <summary>vm_area_alloc(): from v6.14 vm_lock_seq is unsigned (UINT_MAX at first, the same bits as v6.4's int -1).</summary>
    public override VmAreaStruct VmAreaAlloc(MmStruct mm, string name, ulong start, ulong end, VmFlags flags, AnonVma? anonVma) =>
        new(this.World, mm, name, start, end, flags, anonVma, this.Ordering.Seqcount ? s => unchecked((uint)s).ToString(CultureInfo.InvariantCulture) : null);

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

    /// <summary>vma_start_read(), include/linux/mm.h, v6.4/v6.5.</summary>
    public override bool VmaStartRead(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_read", vma.Name);
        var mm = vma.VmMm;

        // Check before locking. A race might cause a false locked result.
        if (vma.VmLockSeq.Read(this.Ordering.VmLockSeq) == mm.MmLockSeq.ReadOnce())
        {
            return fn.Returns(this.ReadLockResult(vma, false));
        }

        if (!vma.VmLock.DownReadTrylock())
        {
            return fn.Returns(this.ReadLockResult(vma, false));
        }

        // False unlocked results are impossible: vm_lock_seq is changed under vm_lock held for write.
        if (this.VmaStartReadRecheck(vma))
        {
            vma.VmLock.UpRead();
            return fn.Returns(this.ReadLockResult(vma, false));
        }

        return fn.Returns(this.ReadLockResult(vma, true));
    }

    /// <summary>
    /// vma_start_read()'s re-check under vm_lock: is the VMA write-locked in the current sequence?
    /// (v6.5 loads mm_lock_seq with smp_load_acquire.)
    /// </summary>
    protected virtual bool VmaStartReadRecheck(VmAreaStruct vma) =>
        vma.VmLockSeq.Plain() == this.ReadMmLockSeq(vma.VmMm);

    /// <summary>The re-check's load of mm_lock_seq: smp_load_acquire (v6.5), raw_read_seqcount (v6.14).</summary>
    private int ReadMmLockSeq(MmStruct mm)
    {
        var seq = mm.MmLockSeq.Read(this.Ordering.RecheckLoad);
        if (this.Ordering.Seqcount)
        {
            this.World.Barrier(MemoryBarrier.Rmb);
        }

        return seq;
    }

    /// <summary>vma_end_read(), include/linux/mm.h, v6.4: RCU keeps the VMA alive until up_read() is done with it.</summary>
    public override void VmaEndRead(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_end_read", vma.Name);
        this.World.Emit(new VmaReadUnlocked(this.Thread, vma.VmMm.Name, vma.Name));
        this.World.Rcu.ReadLock();
        vma.VmLock.UpRead();
        this.World.Rcu.ReadUnlock();
    }

    /// <summary>vma_start_write(), include/linux/mm.h, v6.4/v6.5.</summary>
    public override void VmaStartWrite(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_write", vma.Name);
        if (this.IsVmaWriteLocked(vma, out var mmLockSeq))
        {
            this.World.Emit(new VmaStartWriteReturned(this.Thread, vma.VmMm.Name, vma.Name, WasAlreadyMarked: true));
            return;
        }

        this.VmaWriteLockAndMark(vma, mmLockSeq);
        this.World.Emit(new VmaStartWriteReturned(this.Thread, vma.VmMm.Name, vma.Name, WasAlreadyMarked: false));
    }

    /// <summary>
    /// The body of vma_start_write(): take vm_lock for write (waiting for the current readers to
    /// drain), store vm_lock_seq = mm_lock_seq, release vm_lock at once.
    /// </summary>
    protected virtual void VmaWriteLockAndMark(VmAreaStruct vma, int mmLockSeq)
    {
        vma.VmLock.DownWrite();
        this.StoreVmLockSeq(vma, mmLockSeq);
        vma.VmLock.UpWrite();
    }

    /// <summary>vma->vm_lock_seq = mm_lock_seq (WRITE_ONCE from v6.5): from now on new readers fail.</summary>
    protected void StoreVmLockSeq(VmAreaStruct vma, int mmLockSeq)
    {
        vma.VmLockSeq.Write(mmLockSeq, this.Ordering.VmLockSeq);
        this.World.Emit(new VmaWriteMarked(this.Thread, vma.VmMm.Name, vma.Name, mmLockSeq));
    }

    /// <summary>__is_vma_write_locked(), include/linux/mm.h, v6.4: asserts mmap_lock is write-held.</summary>
    private bool IsVmaWriteLocked(VmAreaStruct vma, out int mmLockSeq)
    {
        this.MmapAssertWriteLocked(vma.VmMm);

        // The caller holds mmap_lock for write: neither counter can change under it.
        mmLockSeq = vma.VmMm.MmLockSeq.Plain();
        return vma.VmLockSeq.Read(this.Ordering.VmLockSeq) == mmLockSeq;
    }

    /// <summary>
    /// vma_end_write_all(), include/linux/mmap_lock.h: WRITE_ONCE (v6.4), smp_store_release (v6.5),
    /// mm_lock_seqcount_end (v6.14: smp_wmb, then the increment that makes the sequence even).
    /// </summary>
    public override void VmaEndWriteAll(MmStruct mm)
    {
        using var fn = this.World.Enter("vma_end_write_all", mm.Name);
        this.MmapAssertWriteLocked(mm);
        if (this.Ordering.Seqcount)
        {
            this.World.Barrier(MemoryBarrier.Wmb);
        }

        this.BumpMmLockSeq(mm);
    }

    /// <summary>mm_lock_seqcount_begin(), include/linux/mmap_lock.h, v6.14: the increment that makes the sequence odd, then smp_wmb.</summary>
    protected override void MmapWriteLocked(MmStruct mm)
    {
        if (!this.Ordering.Seqcount)
        {
            return;
        }

        using var fn = this.World.Enter("mm_lock_seqcount_begin", mm.Name);
        this.BumpMmLockSeq(mm);
        this.World.Barrier(MemoryBarrier.Wmb);
    }

    /// <summary>mm->mm_lock_seq + 1, stored with the generation's ordering. No race: mmap_lock is held for write.</summary>
    protected virtual void BumpMmLockSeq(MmStruct mm) => this.StoreMmLockSeq(mm, mm.MmLockSeq.Plain() + 1);

    /// <summary>Stores a new mm_lock_seq with the generation's ordering and reports it.</summary>
    protected void StoreMmLockSeq(MmStruct mm, int next)
    {
        mm.MmLockSeq.Write(next, this.Ordering.EndWriteAllStore);
        this.World.Emit(new MmSequenceBumped(this.Thread, mm.Name, next));
    }

    /// <summary>vma_assert_write_locked(), include/linux/mm.h, v6.4.</summary>
    public override void VmaAssertWriteLocked(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_assert_write_locked", vma.Name);
        this.World.VmBugOn(!this.IsVmaWriteLocked(vma, out _), $"VM_BUG_ON_VMA(!__is_vma_write_locked({vma.Name}))");
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

    /// <summary>lock_vma_under_rcu(), mm/memory.c, v6.5 (v6.4 with 657b5146955e).</summary>
    public override VmAreaStruct? LockVmaUnderRcu(MmStruct mm, ulong address)
    {
        using var fn = this.World.Enter("lock_vma_under_rcu", $"{mm.Name}, {VmAreaStruct.Hex(address)}");
        this.World.Rcu.ReadLock();
        while (true)
        {
            var vma = mm.MmMt.MasWalk(address);
            if (vma is null || !vma.IsAnonymous || !this.VmaStartRead(vma))
            {
                break;
            }

            // find_mergeable_anon_vma uses adjacent VMAs, which are not locked: check after vma_start_read.
            if (vma.AnonVma.Plain() is null || this.UserfaultfdArmed(vma))
            {
                this.VmaEndRead(vma);
                break;
            }

            // vm_start/vm_end might have changed before we locked the VMA.
            if (address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
            {
                this.LockVmaRangeChanged(vma);
                break;
            }

            // The VMA may have been isolated after we found it: look again.
            if (this.LockVmaIsDetached(vma))
            {
                this.VmaEndRead(vma);
                this.World.CountVmEvent("VMA_LOCK_MISS");
                continue;
            }

            this.World.Emit(new FaultLockedVma(this.Thread, mm.Name, vma.Name, address));
            this.World.Rcu.ReadUnlock();
            return fn.Returns(vma);
        }

        this.World.Rcu.ReadUnlock();
        this.World.CountVmEvent("VMA_LOCK_ABORT");
        return fn.Returns<VmAreaStruct?>(null);
    }

    /// <summary>lock_vma_under_rcu()'s range re-check failed: drop the read lock (goto inval_end_read).</summary>
    protected virtual void LockVmaRangeChanged(VmAreaStruct vma) => this.VmaEndRead(vma);

    /// <summary>lock_vma_under_rcu()'s re-check: <c>if (vma->detached)</c>.</summary>
    protected virtual bool LockVmaIsDetached(VmAreaStruct vma) => vma.Detached.Plain();

    /// <summary>userfaultfd_armed(): vm_flags has VM_UFFD_MISSING.</summary>
    private bool UserfaultfdArmed(VmAreaStruct vma) => (vma.VmFlags.Plain() & (ulong)VmFlags.UffdMissing) != 0;

    private bool ReadLockResult(VmAreaStruct vma, bool locked)
    {
        this.World.Emit(new VmaStartReadReturned(this.Thread, vma.VmMm.Name, vma.Name, locked));
        return locked;
    }
}
