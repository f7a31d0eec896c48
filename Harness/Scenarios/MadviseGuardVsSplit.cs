using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// madvise(MADV_GUARD_INSTALL) on vma1's upper page under vma1's read lock while a writer splits
/// vma1 there (__split_vma(), as an mprotect() or munmap() of part of vma1 would). __split_vma()
/// copies vma1 (vm_area_dup(), flags included) before vma_start_write(vma1), so a guard install
/// that sets VM_MAYBE_GUARD and installs its markers in between leaves the new VMA mapping the
/// markers without the flag (NoLostStickyFlag), the kernel's own finding. From v7.0. The first
/// reader thread is the guard install; the others are page faults in vma1 and vma2.
/// </summary>
public sealed class MadviseGuardVsSplit : Scenario
{
    public override string Name => "madvise-guard-vs-split";

    public override string Description => "madvise(MADV_GUARD_INSTALL) on vma1's upper page under its VMA read lock sets VM_MAYBE_GUARD and installs guard markers while __split_vma(vma1) copies vma1 and then write-locks it, giving the upper page to a new VMA; faults run in vma1 and vma2";

    public override bool RunsOn(GenerationInfo generation) => FromV7_0(generation);

    public override Task RunAsync(BootedKernel kernel, int readers) => Run(kernel, readers);

    /// <summary>The scenario's threads, for the proposals that run it on their kernels too.</summary>
    public static Task Run(BootedKernel kernel, int readers)
    {
        var (mm, vma1, _) = TwoAdjacentVmas(kernel);
        var upper = Vma1Start + PageTable.PageSize;
        var writer = Writer(kernel, "writer", mm, () =>
        {
            kernel.Linux.MmapWriteLock(mm);
            kernel.Linux.__SplitVma(vma1, upper);
            kernel.Linux.MmapWriteUnlock(mm);
        });
        return Task.WhenAll(GuardInstallAndFaults(kernel, mm, upper, readers, i => i % 2 == 1 ? Vma1Start : Vma2Start).Append(writer));
    }
}
