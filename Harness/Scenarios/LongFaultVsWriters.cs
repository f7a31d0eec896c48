using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// A fault that may hold vma1 for a long time while two writers run five mmap-write sections:
/// one mprotects vma1 twice, the other mprotects vma2 three times. Between the two write locks of
/// vma1, mm_lock_seq advances four times, which is where a narrow counter wraps onto vma1's stale
/// vm_lock_seq.
/// </summary>
public sealed class LongFaultVsWriters : Scenario
{
    public override string Name => "long-fault-vs-writers";

    public override string Description => "faults in vma1 while one writer mprotects vma1 twice and another mprotects vma2 three times";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var first = Writer(kernel, "writer", mm, () =>
        {
            kernel.Linux.DoMprotectPkey(mm, Vma1Start, ReadWrite | VmFlags.Exec);
            kernel.Linux.DoMprotectPkey(mm, Vma1Start, ReadWrite);
        });
        var second = Writer(kernel, "writer2", mm, () =>
        {
            for (var i = 0; i < 3; i++)
            {
                kernel.Linux.DoMprotectPkey(mm, Vma2Start, i % 2 == 0 ? ReadWrite | VmFlags.Exec : ReadWrite);
            }
        });
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(first).Append(second));
    }
}
