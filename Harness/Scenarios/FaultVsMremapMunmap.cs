using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Faults on vma1 while a writer moves vma1 away with mremap(MREMAP_DONTUNMAP), which leaves
/// vma1 in place without pages or an anon_vma, and then unmaps vma2, vma1's neighbour
/// (PROTOCOL.md 8, B3). A fault that finds vma1 without an anon_vma must not go looking at vma2
/// for one without mmap_lock.
/// </summary>
public sealed class FaultVsMremapMunmap : Scenario
{
    /// <summary>Where mremap moves vma1 to.</summary>
    private const ulong MovedTo = MmStruct.TaskBase + 0x8000;

    public override string Name => "fault-vs-mremap-munmap";

    public override string Description => "faults in vma1 while mremap(MREMAP_DONTUNMAP) moves vma1's pages away (vma1 loses its anon_vma), then munmap(vma2) frees its neighbour";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var writer = Writer(kernel, "writer", mm, () =>
        {
            kernel.Mm.MremapDontUnmap(mm, Vma1Start, MovedTo);
            kernel.Mm.DoMunmap(mm, Vma2Start);
        });
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(writer));
    }
}
