using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Faults just above vma2 while mmap() creates an anonymous VMA there (docs/protocol.md 8, B7): a
/// fault may find the new VMA as soon as it is in the tree, so mmap_region() must have
/// write-locked it before, as it keeps setting it up afterwards.
/// </summary>
public sealed class FaultVsMmap : Scenario
{
    public override string Name => "fault-vs-mmap";

    public override string Description => "faults at the address mmap() maps a new anonymous VMA (no anon_vma yet) at, just above vma2, while mmap_region() inserts and sets it up";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var writer = Writer(kernel, "writer", mm, () => kernel.Linux.MmapRegion(mm, Vma2End, Vma2End + 0x2000, ReadWrite, null));
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma2End + ((ulong)(i % 2) * PageTable.PageSize)).Append(writer));
    }
}
