using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Faults on vma1 while a writer write-locks and changes it, then downgrades mmap_lock (which
/// releases the VMA write lock) and populates vma1 under the read lock, as mm_populate() does.
/// </summary>
public sealed class FaultVsDowngrade : Scenario
{
    public override string Name => "fault-vs-downgrade";

    public override string Description => "faults in vma1 while a writer changes vma1, mmap_write_downgrade()s, and populates vma1 under mmap_lock for read";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, vma1, _) = TwoAdjacentVmas(kernel);
        var writer = Writer(kernel, "writer", mm, () =>
        {
            kernel.Linux.MmapWriteLock(mm);
            kernel.Linux.MprotectFixup(vma1, ReadWrite | VmFlags.Exec);
            kernel.Linux.MmapWriteDowngrade(mm);
            kernel.Linux.PopulateVmaPageRange(mm, Vma1Start + PageTable.PageSize);
            kernel.Linux.MmapReadUnlock(mm);
        });
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(writer));
    }
}
