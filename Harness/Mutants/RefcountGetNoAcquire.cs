using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// v6.15's vma_start_read() takes its reference with a relaxed increment instead of
/// __refcount_inc_not_zero_limited_acquire(): the checks after the increment (vm_mm, and
/// vm_lock_seq against mm_lock_seq) are no longer ordered after it. A reader whose increment reads
/// the count __vma_start_write() left (its refcount_sub_and_test() of VMA_LOCK_OFFSET is a release,
/// after WRITE_ONCE(vma->vm_lock_seq)) can still read the old vm_lock_seq, see it differ from the
/// current sequence, and take the read lock of a VMA write-locked in that sequence. That load is
/// plain in the kernel (<c>vma->vm_lock_seq == raw_read_seqcount(...)</c>, relying on the
/// acquire), so with every invariant the first report is its data race with
/// __vma_start_write()'s WRITE_ONCE; registered without NoDataRace, NoReadOnWriteMarkedVma
/// reports the read lock itself (LkmmExploreTests).
/// </summary>
public sealed class RefcountGetNoAcquire : RefcountMutant
{
    public override string Name => "refcount-get-no-acquire";

    public override string Description => "vma_start_read() increments vm_refcnt without acquire: the vm_mm and vm_lock_seq checks after it may read values from before the writer's exclusion ended";

    public override string Origin => "the _acquire of __refcount_inc_not_zero_limited_acquire() in v6.15's vma_start_read() (include/linux/mmap_lock.h), which pairs with __vma_exit_locked()'s release";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(NoDataRace);

    public override string Memory => RunRequest.LkmmMemory;

    protected override RefcountGeneration Port(KernelWorld world, string name) => new Mutated(world, name);

    private sealed class Mutated(KernelWorld world, string name) : RefcountGeneration(world, name)
    {
        /// <summary>Mutated: the increment's CAS loop with try_cmpxchg_relaxed.</summary>
        protected override bool VmaRefcountGet(VmAreaStruct vma, out int oldcnt) =>
            vma.VmRefcnt.IncNotZeroLimited(VmAreaStruct.VmaRefLimit, out oldcnt, MemoryOrder.Relaxed, "__refcount_inc_not_zero_limited (relaxed)");
    }
}
