using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// madvise_need_mmap_write() says MADV_DONTFORK needs mmap_lock only for read, so vm_flags is
/// changed (and vm_lock_seq set) under a read hold. Built without lockdep, the kernel's
/// mmap_assert_write_locked() only checks rwsem_is_locked() and lets it through.
/// </summary>
public sealed class MadviseUnderReadLock : Mutant
{
    public override string Name => "madvise-under-read-lock";

    public override string Description => "madvise_need_mmap_write() returns 0 for MADV_DONTFORK: vma_start_write() and the vm_flags change run under mmap_read_lock";

    public override string Origin => "the madvise behaviour table (mm/madvise.c): a behaviour that changes VMAs misclassified as read-only";

    public override string Scenario => "fault-vs-two-writers";

    public override string CaughtBy => nameof(VmaWriteRequiresMmapWriteLock);

    public override MmOperations CreateOperations(KernelWorld world, VmaLockGeneration locking) => new Operations(world, locking);

    private sealed class Operations(KernelWorld world, VmaLockGeneration locking) : MmOperations(world, locking)
    {
        /// <summary>Mutated: every behaviour is taken under mmap_lock for read.</summary>
        protected override bool MadviseNeedMmapWrite(MadviseBehavior behavior) => false;
    }
}
