using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>Faults on vma1 while mprotect() changes its vm_flags (one VMA write-locked, changed, released by the unlock).</summary>
public sealed class FaultVsMprotect : Scenario
{
    public override string Name => "fault-vs-mprotect";

    public override string Description => "faults in vma1 while mprotect(vma1, PROT_READ|PROT_WRITE|PROT_EXEC) write-locks it and changes vm_flags";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var writer = Writer(kernel, "writer", mm, () => kernel.Linux.DoMprotectPkey(mm, Vma1Start, ReadWrite | VmFlags.Exec));
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(writer));
    }
}
