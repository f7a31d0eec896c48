using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// A userfaultfd copy locks vma1 with vma_start_read_locked() under mmap_read_lock, drops
/// mmap_lock and keeps working under the VMA lock alone, while faults run and a writer mprotects
/// vma1 (and must wait for the copy to finish with it).
/// </summary>
public sealed class LockedReadUnderMmapReadLock : Scenario
{
    public override string Name => "locked-read-under-mmap-read-lock";

    public override string Description => "uffd_lock_vma() read-locks vma1 under mmap_read_lock and fills a page while faults run and mprotect(vma1) write-locks it";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var copier = Writer(kernel, "uffd-copy", mm, () =>
        {
            if (kernel.Linux.UffdLockVma(mm, Vma1Start + PageTable.PageSize) is { } vma)
            {
                kernel.Linux.MfillAtomic(vma, Vma1Start + PageTable.PageSize);
            }
        });
        var writer = Writer(kernel, "writer", mm, () => kernel.Linux.DoMprotectPkey(mm, Vma1Start, ReadWrite | VmFlags.Exec));
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(copier).Append(writer));
    }
}
