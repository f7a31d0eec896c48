using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// madvise(MADV_GUARD_INSTALL) on a page of vma1 under vma1's read lock while mseal() seals vma1:
/// mseal_apply() sets VM_SEALED with vm_flags_set(), which write-locks vma1 and then ORs the bit
/// into vm_flags. The read of vm_flags comes after the write lock, so under sequential consistency
/// the guard install's VM_MAYBE_GUARD is kept; under LKMM the write lock's wait for readers
/// acquires nothing of what they stored, and the store can drop it (NoLostStickyFlag), the
/// kernel's own finding. From v7.0. The first reader thread is the guard install; the others are
/// page faults in vma1 and vma2.
/// </summary>
public sealed class MadviseGuardVsMseal : Scenario
{
    public override string Name => "madvise-guard-vs-mseal";

    public override string Description => "madvise(MADV_GUARD_INSTALL) on vma1 under its VMA read lock sets VM_MAYBE_GUARD while mseal(vma1) write-locks vma1 and sets VM_SEALED (vm_flags_set()); faults run in vma1 and vma2";

    public override bool RunsOn(GenerationInfo generation) => FromV7_0(generation);

    public override Task RunAsync(BootedKernel kernel, int readers) => Run(kernel, readers);

    /// <summary>The scenario's threads, for the proposals that run it on their kernels too.</summary>
    public static Task Run(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var mainline = kernel.Linux as Linux7_0 ?? throw new InvalidOperationException("mseal() is ported for v7.0");
        var writer = Writer(kernel, "writer", mm, () => mainline.DoMseal(mm, Vma1Start, Vma2Start - Vma1Start));
        return Task.WhenAll(GuardInstallAndFaults(kernel, mm, Vma1Start + PageTable.PageSize, readers, i => i % 2 == 1 ? Vma1Start : Vma2Start).Append(writer));
    }
}
