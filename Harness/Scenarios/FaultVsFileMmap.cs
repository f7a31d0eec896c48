using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Faults on the anonymous VMAs while mmap() maps a file next to them: mmap_region() write-locks
/// the new VMA and links it into the file's i_mmap under i_mmap_rwsem, while holding mmap_lock for
/// write.
/// </summary>
public sealed class FaultVsFileMmap : Scenario
{
    public override string Name => "fault-vs-file-mmap";

    public override string Description => "faults in vma1 and vma2 while mmap() maps file1 at [0x14000, 0x16000): a new file VMA linked under file1's i_mmap_rwsem";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var file = new AddressSpace(kernel.World, "file1");
        var writer = Writer(kernel, "writer", mm, () => kernel.Linux.MmapRegion(mm, Vma2End, Vma2End + 0x2000, ReadWrite, null, file));
        return Task.WhenAll(Faults(kernel, mm, readers, i => i % 2 == 0 ? Vma1Start : Vma2Start).Append(writer));
    }
}
