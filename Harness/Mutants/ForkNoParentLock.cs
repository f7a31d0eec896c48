using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// dup_mmap() without the vma_start_write() of fb49c455323f, as v6.4 shipped (docs/protocol.md 8, B1;
/// the memory corruption that had CONFIG_PER_VMA_LOCK marked BROKEN for v6.4.1/v6.4.2). Page
/// faults of the parent's other threads no longer wait for fork: a copy-on-write fault copies a
/// page that dup_mmap has write-protected but whose stale writable translations it has not yet
/// flushed, and a store through one of them lands in the page the child keeps.
/// </summary>
public sealed class ForkNoParentLock : Mutant
{
    public override string Name => "fork-no-parent-lock";

    public override string Description => "dup_mmap() copies the parent's page tables without vma_start_write() on the parent's VMAs";

    public override string Origin => "reverts fb49c455323f (fork: lock VMAs of the parent process when forking; v6.5-rc1, v6.4.3)";

    public override string Scenario => "fault-vs-fork";

    public override string CaughtBy => nameof(NoLostWrite);

    public override IReadOnlyList<string> Replaces => ["dup_mmap"];

    /// <summary>Every generation: none changed dup_mmap().</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } =
    [
        MutantKernel.On("6.4", w => new On6_4(w)),
        MutantKernel.On("6.5", w => new On6_5(w)),
        MutantKernel.On("6.14", w => new On6_14(w)),
        MutantKernel.On("6.15", w => new On6_15(w)),
    ];

    /// <summary>dup_mmap() before fb49c455323f.</summary>
    public interface Patch : Linux
    {
        /// <summary>dup_mmap(), kernel/fork.c, v6.4.0, before fb49c455323f: the parent's VMAs stay open to page faults during the copy.</summary>
        int Linux.DupMmap(MmStruct mm, MmStruct oldmm)
        {
            using var fn = this.World.Enter("dup_mmap", $"{oldmm.Name} -> {mm.Name}");
            this.MmapWriteLock(oldmm);
            this.MmapWriteLock(mm); // mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING)
            for (var mpnt = oldmm.MmMt.FindVma(0); mpnt is not null; mpnt = oldmm.MmMt.FindVma(mpnt.VmEnd.ReadOnce()))
            {
                this.DupMmapCopyVma(mm, mpnt);
            }

            this.MmapWriteUnlock(mm);
            oldmm.FlushTlb("flush_tlb_mm");
            this.MmapWriteUnlock(oldmm);
            return fn.Returns(0);
        }
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux6_5, Patch;

    private sealed class On6_14(KernelWorld world) : Booted(world), Linux6_14, Patch;

    private sealed class On6_15(KernelWorld world) : Booted(world), Linux6_15, Patch;
}
