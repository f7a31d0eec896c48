using System.Globalization;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>
/// Generation "6.14": v6.5 with eb449bd96954 ("mm: convert mm_lock_seq to a proper seqcount"):
/// mmap_write_lock() makes mm_lock_seq odd (mm_lock_seqcount_begin()), vma_end_write_all() makes
/// it even again (mm_lock_seqcount_end()), vm_lock_seq is unsigned (UINT_MAX at first); and the
/// releases between: lock_vma_under_rcu() re-checks detached before the range and leaves anon_vma
/// to the fault handler, which from v6.7 calls vmf_anon_prepare(). Changes: mmap_write_lock(),
/// mm_lock_seqcount_begin() (new), vma_end_write_all(), vm_area_alloc(), lock_vma_under_rcu(),
/// and anon_vma_prepare() in the fault handlers (vmf_anon_prepare()).
/// </summary>
public interface Linux6_14 : Linux6_5
{
    /// <summary>mmap_write_lock(), include/linux/mmap_lock.h, v6.14: down_write(), then mm_lock_seqcount_begin().</summary>
    void Linux.MmapWriteLock(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_write_lock", mm.Name);
        mm.MmapLock.DownWrite();
        this.World.Emit(new MmapLockAcquired(this.Thread, mm.Name, LockMode.Write));
        this.MmLockSeqcountBegin(mm);
    }

    /// <summary>
    /// mm_lock_seqcount_begin(), include/linux/mmap_lock.h, v6.14: do_raw_write_seqcount_begin(),
    /// i.e. kcsan_nestable_atomic_begin(), the increment that makes the sequence odd, smp_wmb().
    /// KCSAN treats the whole write section, up to vma_end_write_all(), as atomic.
    /// </summary>
    void MmLockSeqcountBegin(MmStruct mm)
    {
        using var fn = this.World.Enter("mm_lock_seqcount_begin", mm.Name);
        this.World.Current.KcsanNestableAtomicBegin();
        var next = mm.MmLockSeq.Plain() + 1;
        mm.MmLockSeq.SetPlain(next);
        this.MmSequenceBumped(mm, next);
        this.World.Barrier(MemoryBarrier.Wmb);
    }

    /// <summary>
    /// vma_end_write_all(), include/linux/mmap_lock.h, v6.14: mm_lock_seqcount_end(), i.e.
    /// do_raw_write_seqcount_end(): smp_wmb(), the increment that makes the sequence even, then
    /// the end of the KCSAN atomic section mm_lock_seqcount_begin() opened.
    /// </summary>
    void Linux.VmaEndWriteAll(MmStruct mm)
    {
        using var fn = this.World.Enter("vma_end_write_all", mm.Name);
        this.MmapAssertWriteLocked(mm);
        this.World.Barrier(MemoryBarrier.Wmb);
        var next = mm.MmLockSeq.Plain() + 1;
        mm.MmLockSeq.SetPlain(next);
        this.MmSequenceBumped(mm, next);
        this.World.Current.KcsanNestableAtomicEnd();
    }

    /// <summary>
    /// vm_area_alloc(), kernel/fork.c, v6.14: as v6.4, with vma_lock_init() setting an unsigned
    /// vm_lock_seq to UINT_MAX (the same bits as v6.4's int -1).
    /// </summary>
    VmAreaStruct Linux.VmAreaAlloc(MmStruct mm, VmaName name, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, AddressSpace? file) =>
        this.VmaCreated(new VmAreaStruct(this.World, mm, name, start, end, flags, anonVma, UnsignedVmLockSeq, file, this.VmaLockAlloc(name)));

    /// <summary>
    /// lock_vma_under_rcu(), mm/memory.c, v6.14: the detached re-check comes before the range
    /// re-check, and anon_vma is left to the fault handler (vmf_anon_prepare()).
    /// </summary>
    VmAreaStruct? Linux.LockVmaUnderRcu(MmStruct mm, ulong address)
    {
        using var fn = this.World.Enter("lock_vma_under_rcu", $"{mm.Name}, {VmAreaStruct.Hex(address)}");
        this.World.Rcu.ReadLock();
        while (true) // retry:
        {
            var vma = mm.MmMt.MasWalk(address);
            if (vma is null)
            {
                return fn.Returns(this.LockVmaUnderRcuInval());
            }

            if (!this.VmaStartRead(vma))
            {
                return fn.Returns(this.LockVmaUnderRcuInval());
            }

            // Check if the VMA got isolated after we found it.
            if (vma.Detached.Plain())
            {
                this.VmaEndRead(vma);
                this.World.CountVmEvent("VMA_LOCK_MISS");
                this.VmaLookupRetried(mm, vma);

                // The area was replaced with another one.
                continue;
            }

            // Locked and not isolated; the range may still have changed before the lock was taken,
            // so check it again.
            if (address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
            {
                return fn.Returns(this.LockVmaUnderRcuInvalEndRead(vma));
            }

            return fn.Returns(this.LockVmaUnderRcuFound(mm, vma, address));
        }
    }

    /// <summary>
    /// vmf_anon_prepare(), mm/memory.c, v6.7+, which do_anonymous_page() and wp_page_copy() call
    /// in place of anon_vma_prepare(): a fault holding only the VMA lock does not make a first
    /// anon_vma (VM_FAULT_RETRY, null here: the fault is redone under mmap_lock).
    /// </summary>
    AnonVma? Linux.AnonVmaPrepare(VmAreaStruct vma, bool underVmaLock)
    {
        var anonVma = vma.AnonVma.ReadOnce();
        if (anonVma is not null || !vma.IsAnonymous || underVmaLock)
        {
            return anonVma;
        }

        return this.__AnonVmaPrepare(vma);
    }

    /// <summary>vm_lock_seq as an unsigned int (v6.14+), for traces.</summary>
    protected static string UnsignedVmLockSeq(int seq) => unchecked((uint)seq).ToString(CultureInfo.InvariantCulture);
}

/// <summary>The kernel of generation "6.14".</summary>
public sealed class V6_14(KernelWorld world) : Booted(world), Linux6_14;
