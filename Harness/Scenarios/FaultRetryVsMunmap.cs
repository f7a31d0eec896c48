using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Faults in vma1 while a writer unmaps it and maps a new anonymous VMA over the same range: a
/// fault that found vma1 and then sees it detached retries (-EAGAIN, VMA_LOCK_MISS) and must find
/// the new VMA, while the tree's node for the range is replaced (and, on 7.0, freed after a grace
/// period, so the retry must not walk from the node it cached).
/// </summary>
public sealed class FaultRetryVsMunmap : Scenario
{
    public override string Name => "fault-retry-vs-munmap";

    public override string Description => "faults in vma1 while munmap(vma1) detaches and frees it and mmap() maps a new VMA over the same range: the -EAGAIN retry finds the new one";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var writer = Writer(kernel, "writer", mm, () =>
        {
            kernel.Linux.DoVmiMunmap(mm, Vma1Start);
            kernel.Linux.MmapRegion(mm, Vma1Start, Vma2Start, ReadWrite, null);
        });
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(writer));
    }
}
