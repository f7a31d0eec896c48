using System.Globalization;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Locking;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.VmaLock;

/// <summary>
/// What distinguishes the versions' sequence counters: the orderings v6.5 fixed
/// (b1f02b95758d, "mm: fix memory ordering for mm_lock_seq and vm_lock_seq": how vm_lock_seq is
/// read and written, how vma_end_write_all stores mm_lock_seq, how vma_start_read's re-check loads
/// it), and whether mm_lock_seq is a seqcount (v6.14, eb449bd96954: incremented by
/// mmap_write_lock and again by vma_end_write_all, so it is odd while mmap_lock is write-held).
/// </summary>
public sealed record SequenceOrdering(MemoryOrder VmLockSeq, MemoryOrder EndWriteAllStore, MemoryOrder RecheckLoad, bool Seqcount = false)
{
    /// <summary>v6.4: plain vm_lock_seq, WRITE_ONCE / READ_ONCE of mm_lock_seq.</summary>
    public static readonly SequenceOrdering V6_4 = new(MemoryOrder.Plain, MemoryOrder.Once, MemoryOrder.Once);

    /// <summary>v6.5: READ_ONCE/WRITE_ONCE vm_lock_seq, smp_store_release / smp_load_acquire of mm_lock_seq.</summary>
    public static readonly SequenceOrdering V6_5 = new(MemoryOrder.Once, MemoryOrder.Release, MemoryOrder.Acquire);

    /// <summary>
    /// v6.14: mm_lock_seq is a seqcount_t (do_raw_write_seqcount_begin/end: plain increments with
    /// smp_wmb after / before; raw_read_seqcount: smp_load_acquire); vm_lock_seq is unsigned,
    /// UINT_MAX at first.
    /// </summary>
    public static readonly SequenceOrdering V6_14 = new(MemoryOrder.Once, MemoryOrder.Plain, MemoryOrder.Acquire, Seqcount: true);

    /// <summary>v6.15+: the sequence counters as in v6.14.</summary>
    public static readonly SequenceOrdering V6_15 = V6_14;
}

/// <summary>
/// The half of the per-VMA lock every generation shares: the two sequence counters. A VMA is
/// write-locked iff vm_lock_seq == mm_lock_seq; vma_start_write() copies mm_lock_seq into
/// vm_lock_seq, vma_end_write_all() releases every VMA of the mm at once by moving mm_lock_seq on.
/// The per-VMA exclusion itself (an rw_semaphore until v6.14, a reference count from v6.15) is the
/// subclass's.
/// </summary>
public abstract class SequenceGeneration(KernelWorld world, string name, SequenceOrdering ordering) : VmaLockGeneration(world)
{
    public override string Name { get; } = name;

    protected SequenceOrdering Ordering { get; } = ordering;

    protected string Thread => this.World.Current.Name;

    /// <summary>
    /// vm_area_alloc(): a new VMA, private to its creator until inserted. From v6.14 vm_lock_seq is
    /// unsigned (UINT_MAX at first, the same bits as v6.4's int -1).
    /// </summary>
    public override VmAreaStruct VmAreaAlloc(MmStruct mm, string name, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, AddressSpace? file = null)
    {
        var vma = new VmAreaStruct(this.World, mm, name, start, end, flags, anonVma, this.Ordering.Seqcount ? FormatUnsigned : null, file, this.VmaLockAlloc(name));
        if (this.World.InTask)
        {
            this.World.Emit(new VmaCreated(this.Thread, mm.Name, name));
        }

        return vma;
    }

    /// <summary>
    /// vma_lock_alloc(), kernel/fork.c, v6.4 (to v6.14): the VMA's separately allocated vma_lock
    /// (kmem_cache_alloc(vma_lock_cachep) and init_rwsem). v6.15's VMAs keep an unused one.
    /// </summary>
    protected virtual RwSemaphore VmaLockAlloc(string vmaName) => new(this.World, $"{vmaName}->vm_lock");

    /// <summary>__is_vma_write_locked(), include/linux/mm.h: asserts mmap_lock is write-held.</summary>
    protected bool IsVmaWriteLocked(VmAreaStruct vma, out int mmLockSeq)
    {
        this.MmapAssertWriteLocked(vma.VmMm);

        // The caller holds mmap_lock for write: neither counter can change under it.
        mmLockSeq = vma.VmMm.MmLockSeq.Plain();
        return vma.VmLockSeq.Read(this.Ordering.VmLockSeq) == mmLockSeq;
    }

    /// <summary>The re-check's load of mm_lock_seq: READ_ONCE (v6.4), smp_load_acquire (v6.5; raw_read_seqcount from v6.14).</summary>
    protected int ReadMmLockSeq(MmStruct mm) => mm.MmLockSeq.Read(this.Ordering.RecheckLoad);


    /// <summary>vma_start_write(), include/linux/mm.h (include/linux/mmap_lock.h from v6.15).</summary>
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
    /// The body of vma_start_write() once it knows the VMA is not yet write-locked in this
    /// sequence: wait for its readers to leave and set vm_lock_seq = mm_lock_seq.
    /// </summary>
    protected abstract void VmaWriteLockAndMark(VmAreaStruct vma, int mmLockSeq);

    /// <summary>vma->vm_lock_seq = mm_lock_seq (WRITE_ONCE from v6.5): from now on new readers fail.</summary>
    protected void StoreVmLockSeq(VmAreaStruct vma, int mmLockSeq)
    {
        vma.VmLockSeq.Write(mmLockSeq, this.Ordering.VmLockSeq);
        this.World.Emit(new VmaWriteMarked(this.Thread, vma.VmMm.Name, vma.Name, mmLockSeq));
    }

    /// <summary>
    /// vma_end_write_all(), include/linux/mmap_lock.h: WRITE_ONCE (v6.4), smp_store_release (v6.5),
    /// mm_lock_seqcount_end (v6.14: smp_wmb, then the increment that makes the sequence even, then
    /// the end of the KCSAN atomic section mm_lock_seqcount_begin() opened).
    /// </summary>
    public override void VmaEndWriteAll(MmStruct mm)
    {
        using var fn = this.World.Enter("vma_end_write_all", mm.Name);
        this.MmapAssertWriteLocked(mm);
        if (!this.Ordering.Seqcount)
        {
            this.BumpMmLockSeq(mm);
            return;
        }

        // do_raw_write_seqcount_end(): smp_wmb(), the increment, kcsan_nestable_atomic_end().
        this.World.Barrier(MemoryBarrier.Wmb);
        this.BumpMmLockSeq(mm);
        this.World.Current.KcsanNestableAtomicEnd();
    }

    /// <summary>mm_lock_seqcount_begin(), include/linux/mmap_lock.h, v6.14: the increment that makes the sequence odd, then smp_wmb.</summary>
    protected override void MmapWriteLocked(MmStruct mm)
    {
        if (!this.Ordering.Seqcount)
        {
            return;
        }

        // do_raw_write_seqcount_begin(): kcsan_nestable_atomic_begin(), the increment, smp_wmb().
        // KCSAN treats the whole write section, up to vma_end_write_all(), as atomic.
        using var fn = this.World.Enter("mm_lock_seqcount_begin", mm.Name);
        this.World.Current.KcsanNestableAtomicBegin();
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

    /// <summary>Reports what vma_start_read() decided for a reader of <paramref name="mm"/> and passes it through.</summary>
    protected bool ReadLockResult(MmStruct mm, VmAreaStruct vma, bool locked)
    {
        this.World.Emit(new VmaStartReadReturned(this.Thread, mm.Name, vma.Name, locked));
        return locked;
    }

    private static string FormatUnsigned(int seq) => unchecked((uint)seq).ToString(CultureInfo.InvariantCulture);
}
