using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// madvise(MADV_FREE) of all of vma1, then madvise(MADV_GUARD_REMOVE) of its upper page, each
/// under vma1's read lock (6.16's and 6.19's MADVISE_VMA_READ_LOCK), while a writer splits vma1
/// there (__split_vma(), as an mprotect() or munmap() of part of vma1 would). Before the split,
/// lock_vma_under_rcu() read-locks vma1 and the page walk checks that lock
/// (PGWALK_VMA_RDLOCK_VERIFY); after it, MADV_FREE's range spans two VMAs, so madvise falls back
/// to mmap_read_lock() and walks both (PGWALK_RDLOCK). vma1's pages were written before the
/// threads start. From v7.0. The first reader thread is madvise; the others are page faults in
/// vma1 and vma2.
/// </summary>
public sealed class MadviseFreeVsSplit : Scenario
{
    public override string Name => "madvise-free-vs-split";

    public override string Description => "madvise(MADV_FREE) of vma1's two written pages, then madvise(MADV_GUARD_REMOVE) of its upper page, each under vma1's VMA read lock (mmap_read_lock() as the fall-back) with the page walk checking the lock, while __split_vma(vma1) gives the upper page to a new VMA; faults run in vma1 and vma2";

    public override bool RunsOn(GenerationInfo generation) => FromV7_0(generation);

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, vma1, _) = TwoAdjacentVmas(kernel);
        var upper = Vma1Start + PageTable.PageSize;
        WrittenPages(kernel, mm, vma1, Vma1Start, Vma2Start);

        var readerThreads = MadviseAndFaults(
            kernel,
            mm,
            readers,
            mainline =>
            {
                mainline.DoMadvise(mm, Vma1Start, Vma2Start - Vma1Start, MadviseBehavior.Free);
                mainline.DoMadvise(mm, upper, PageTable.PageSize, MadviseBehavior.GuardRemove);
            },
            i => i % 2 == 1 ? Vma1Start : Vma2Start);
        var writer = Writer(kernel, "writer", mm, () =>
        {
            kernel.Linux.MmapWriteLock(mm);
            kernel.Linux.__SplitVma(vma1, upper);
            kernel.Linux.MmapWriteUnlock(mm);
        });
        return Task.WhenAll(readerThreads.Append(writer));
    }
}
