using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// b1f02b95758d ("mm: fix memory ordering for mm_lock_seq and vm_lock_seq", v6.5) reverted on
/// v6.5: vma_end_write_all() stores mm_lock_seq with WRITE_ONCE instead of smp_store_release(),
/// vma_start_read()'s re-check loads it with READ_ONCE instead of smp_load_acquire(), and
/// vm_lock_seq is a plain field again (v6.4's include/linux/mm.h and mmap_lock.h). The commit
/// message's race: a fault sees the write sequence ended, takes the VMA lock, and still reads
/// vm_flags from before the writer changed it (there userfaultfd_register; here mprotect). v6.4
/// as released has exactly these orderings; this is the fix's diff against v6.5. With every
/// invariant the first report is the fix's third part, the data race of the plain vm_lock_seq
/// (vma_start_read()'s early check against vma_start_write()'s store); the commit message's race
/// is NoStaleVmaFieldUnderReadLock's (InvariantTests registers it alone).
/// </summary>
public sealed class SeqWithoutReleaseAcquire : Mutant
{
    public override string Name => "seq-without-release-acquire";

    public override string Description => "vma_end_write_all() stores mm_lock_seq with WRITE_ONCE and vma_start_read()'s re-check loads it with READ_ONCE; vm_lock_seq plain (v6.4's orderings on v6.5)";

    public override string Origin => "reverts b1f02b95758d (v6.5): a fault can see the write sequence ended and read VMA fields from before the writer's change";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(NoDataRace);

    public override string Memory => RunRequest.LkmmMemory;

    /// <summary>The four functions b1f02b95758d changed, which <see cref="Linux6_5"/> overrides.</summary>
    public override IReadOnlyList<string> Replaces => ["vma_start_read", "__is_vma_write_locked", "vma_start_write", "vma_end_write_all"];

    /// <summary>
    /// v6.5, the release that has the fix (v6.4 is the same code without it; v6.14 moved to a
    /// seqcount). The pre-fix bodies are v6.4's, as <see cref="Linux"/> declares them: the kernel
    /// is 6.5's without <see cref="Linux6_5"/>'s overrides, which is every function of 6.4.
    /// </summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.5", w => new On6_5(w))];

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux;
}
