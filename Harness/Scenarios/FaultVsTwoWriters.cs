using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Faults on vma1 while two writers change it one after the other: mprotect() and
/// madvise(MADV_DONTFORK). The second write section starts with vma1's vm_lock_seq left over from
/// the first.
/// </summary>
public sealed class FaultVsTwoWriters : Scenario
{
    public override string Name => "fault-vs-two-writers";

    public override string Description => "faults in vma1 while mprotect(vma1) and madvise(vma1, MADV_DONTFORK) write-lock it in turn";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var first = Writer(kernel, "writer", mm, () => kernel.Linux.DoMprotectPkey(mm, Vma1Start, ReadWrite | VmFlags.Exec));
        var second = Writer(kernel, "writer2", mm, () => kernel.Linux.DoMadvise(mm, Vma1Start, MadviseBehavior.DontFork));
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(first).Append(second));
    }
}
