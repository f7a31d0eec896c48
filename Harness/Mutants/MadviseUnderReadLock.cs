using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Port;
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

    public override IReadOnlyList<string> Replaces => ["madvise_need_mmap_write"];

    /// <summary>The rw_semaphore generations.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } =
        [MutantKernel.On("6.4", w => new On6_4(w)), MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w))];

    /// <summary>madvise_need_mmap_write() that sends every behaviour to mmap_read_lock.</summary>
    public interface Patch : Linux
    {
        /// <summary>madvise_need_mmap_write(), mm/madvise.c, v6.4, mutated: no behaviour needs mmap_lock for write.</summary>
        bool Linux.MadviseNeedMmapWrite(MadviseBehavior behavior) => behavior switch
        {
            _ => false,
        };
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux6_5, Patch;

    private sealed class On6_14(KernelWorld world) : Booted(world), Linux6_14, Patch;
}
