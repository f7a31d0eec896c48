using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// madvise(MADV_GUARD_INSTALL) on a page of vma2, under vma2's read lock (lock_vma_under_rcu()) or,
/// when that fails, under mmap_read_lock(), while mmap() maps the gap between vma1 and vma2:
/// mmap_region() merges the new range with both neighbours (vma_merge_new_range()), so
/// vma_expand() grows vma1 over the gap and over vma2, and removes vma2. VM_MAYBE_GUARD is sticky:
/// if vma2 had it, vma1 must have it after the merge (NoLostStickyFlag). From v7.0.
/// <para>
/// v7.0's vma_expand() reads vma2's sticky flags before vma_start_write(vma2), so a guard install
/// holding vma2's read lock can set the flag after the read and before the lock: the kernel's own
/// finding (KnownBugs), which the proposal vma-expand-sticky-after-lock (the v7.1 order) removes.
/// The first reader thread is the guard install; the others are page faults in vma2 and vma1.
/// </para>
/// </summary>
public sealed class MadviseGuardVsMmapMerge : Scenario
{
    /// <summary>Where vma2 starts: 0x2000 above vma1's end, a gap mmap() fills.</summary>
    public const ulong GapVma2Start = Vma2End;

    public override string Name => "madvise-guard-vs-mmap-merge";

    public override string Description => "madvise(MADV_GUARD_INSTALL) on vma2 under its VMA read lock sets VM_MAYBE_GUARD while mmap() maps the gap between vma1 and vma2 and mmap_region() merges all three: vma_expand() grows vma1 over the gap and vma2 and removes vma2; faults run in vma2 and vma1";

    public override bool RunsOn(GenerationInfo generation) => FromV7_0(generation);

    public override Task RunAsync(BootedKernel kernel, int readers) => Run(kernel, readers);

    /// <summary>The scenario's threads, for the proposals that run it on their kernels too.</summary>
    public static Task Run(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoVmas(kernel, GapVma2Start, GapVma2Start + 0x2000);
        var writer = Writer(kernel, "writer", mm, () => kernel.Linux.MmapRegion(mm, Vma2Start, GapVma2Start, ReadWrite, null));
        return Task.WhenAll(GuardInstallAndFaults(kernel, mm, GapVma2Start + PageTable.PageSize, readers, i => i % 2 == 1 ? GapVma2Start : Vma1Start).Append(writer));
    }
}
