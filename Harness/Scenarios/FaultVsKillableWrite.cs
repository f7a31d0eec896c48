using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Faults on vma1 while mprotect write-locks it with vma_start_write_killable() (v6.19): a fatal
/// signal may end the writer's wait for readers, which must then give the exclusion back (the
/// VMA neither stays excluded nor counts as write-locked). Before 6.19 the wait is not killable.
/// </summary>
public sealed class FaultVsKillableWrite : Scenario
{
    public override string Name => "fault-vs-killable-write";

    public override string Description => "faults in vma1 while mprotect(vma1) uses vma_start_write_killable() and may be killed while it waits";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var writer = Writer(kernel, "writer", mm, () =>
        {
            kernel.Linux.DoMprotectPkey(mm, Vma1Start, ReadWrite | VmFlags.Exec, killable: true);
            kernel.Linux.DoMprotectPkey(mm, Vma1Start, ReadWrite, killable: true);
        });
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(writer));
    }
}
