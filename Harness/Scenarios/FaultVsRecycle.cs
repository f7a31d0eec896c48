using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Two address spaces. Faults in "mm" look vma1 up under RCU while a writer unmaps it; meanwhile
/// the owner of "mm2" maps a region (from v6.15 the freed vma1 object is reused for it at once)
/// and exits: exit_mmap write-locks the VMA (waiting for any reader holding a reference), frees
/// it, and the last mmdrop frees mm2. A fault still holding the old pointer must notice the VMA
/// is no longer its own, and must not touch mm2 after it is freed (docs/protocol.md B11).
/// </summary>
public sealed class FaultVsRecycle : Scenario
{
    public override string Name => "fault-vs-recycle";

    public override string Description => "faults in mm's vma1 while munmap frees it and mm2 maps a region (reusing it) and exits";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, vma2) = TwoAdjacentVmas(kernel);
        var mm2 = new MmStruct(kernel.World, "mm2");
        var anonVma = vma2.AnonVma.Peek()!;
        var unmapper = Writer(kernel, "writer", mm, () => kernel.Linux.DoVmiMunmap(mm, Vma1Start));
        var owner2 = Writer(kernel, "mm2-owner", mm2, () =>
        {
            kernel.Linux.MmapRegion(mm2, Vma1Start, Vma2Start, ReadWrite, anonVma);
            kernel.Linux.ExitMmap(mm2);
        });
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(unmapper).Append(owner2));
    }
}
