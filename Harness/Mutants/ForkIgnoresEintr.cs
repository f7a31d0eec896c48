using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// dup_mmap() that ignores -EINTR from vma_start_write_killable(): after a fatal signal ended the
/// wait for the parent VMA's readers it goes on to copy that VMA, which it has not write-locked,
/// while the faults it was waiting for still hold it. copy_page_range()'s
/// vma_assert_write_locked(src_vma) reports it before a PTE is write-protected. A what-if: the
/// kernel's conversion (7370f8e1b3a8, v6.19) had its <c>goto loop_out</c> from the start.
/// </summary>
public sealed class ForkIgnoresEintr : Mutant
{
    public override string Name => "fork-ignores-eintr";

    public override string Description => "dup_mmap() ignores -EINTR from vma_start_write_killable() and copies the parent's VMA as if it held its write lock";

    public override string Origin => "what-if: the -EINTR exit (`goto loop_out`) of dup_mmap()'s vma_start_write_killable() (7370f8e1b3a8, v6.19), left out";

    public override string Scenario => "fault-vs-killable-fork";

    /// <summary>copy_page_range() asserts the parent VMA's write lock before it write-protects a COW mapping.</summary>
    public override string CaughtBy => Finding.KernelBug;

    public override string KernelCheck => "vma_assert_write_locked(src_vma) in copy_page_range(): VM_WARN_ON_ONCE_VMA in v7.0";

    public override IReadOnlyList<string> Replaces => ["dup_mmap"];

    /// <summary>The generation whose dup_mmap() uses vma_start_write_killable().</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("7.0", w => new On7_0(w))];

    /// <summary>dup_mmap() without its -EINTR exit.</summary>
    public interface Patch : Linux7_0
    {
        /// <summary>dup_mmap(), mm/mmap.c, v7.0, mutated: vma_start_write_killable()'s result is dropped.</summary>
        int Linux.DupMmap(MmStruct mm, MmStruct oldmm)
        {
            using var fn = this.World.Enter("dup_mmap", $"{oldmm.Name} -> {mm.Name}");
            this.MmapWriteLock(oldmm);
            this.MmapWriteLock(mm); // mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING)
            for (var mpnt = oldmm.MmMt.FindVma(0); mpnt is not null; mpnt = oldmm.MmMt.FindVma(mpnt.VmEnd.ReadOnce()))
            {
                // The error is not looked at: the VMA is copied whether or not it is write-locked.
                _ = this.VmaStartWriteKillable(mpnt);
                this.DupMmapCopyVma(mm, mpnt);
            }

            this.MmapWriteUnlock(mm);
            oldmm.FlushTlb("flush_tlb_mm");
            this.MmapWriteUnlock(oldmm);
            return fn.Returns(0);
        }
    }

    private sealed class On7_0(KernelWorld world) : Booted(world), Patch;
}
