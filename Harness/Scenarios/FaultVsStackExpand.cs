using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// A fault just below a stack VMA grows it (lock_mm_and_find_vma → expand_downwards: vm_start
/// and vm_pgoff move down) while other faults inside the stack hold its read lock and compute
/// their pages' index from vm_start and vm_pgoff.
/// </summary>
public sealed class FaultVsStackExpand : Scenario
{
    /// <summary>The stack VMA: [0x1c000, 0x1e000), VM_GROWSDOWN, alone in its mm (no guard-gap neighbour).</summary>
    private const ulong StackStart = MmStruct.TaskBase + 0xc000;

    private const ulong StackEnd = StackStart + 0x2000;

    public override string Name => "fault-vs-stack-expand";

    public override string Description => "faults inside a VM_GROWSDOWN stack VMA while a fault one page below it expands the stack (expand_downwards moves vm_start and vm_pgoff)";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var world = kernel.World;
        var mm = new MmStruct(world, "mm");
        var stack = kernel.Linux.VmAreaAlloc(
            mm, world.NewVmaName(), StackStart, StackEnd, ReadWrite | VmFlags.GrowsDown, new AnonVma(world, world.NewName("anon_vma")));
        kernel.Linux.InstallAtSetup(mm, stack);
        var expander = Writer(kernel, "expander", mm, () => kernel.Linux.DoUserAddrFault(mm, StackStart - PageTable.PageSize, write: true));
        return Task.WhenAll(Faults(kernel, mm, readers, i => StackStart + ((ulong)(i % 2) * PageTable.PageSize)).Append(expander));
    }
}
