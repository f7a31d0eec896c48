using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>Faults on vma1 while munmap() write-locks, detaches and removes it, downgrades mmap_lock, tears it down and frees it.</summary>
public sealed class FaultVsMunmap : Scenario
{
    public override string Name => "fault-vs-munmap";

    public override string Description => "faults in vma1 while munmap(vma1) detaches it, downgrades mmap_lock, zaps its pages and frees it after RCU";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var writer = Writer(kernel, "writer", mm, () => kernel.Linux.DoVmiMunmap(mm, Vma1Start));
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(writer));
    }
}
