using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// madvise(MADV_GUARD_INSTALL) on a page of vma1 under vma1's read lock while mprotect() makes
/// vma1 executable. v7.0's do_mprotect_pkey() computes vma1's new flags from vma1->vm_flags
/// before mprotect_fixup() write-locks vma1, and vm_flags_reset_once() stores them: a guard
/// install that sets VM_MAYBE_GUARD in between loses it (NoLostStickyFlag: no store clears the
/// flag), the kernel's own finding. From v7.0. The first reader thread is the guard install; the
/// others are page faults in vma1 and vma2.
/// </summary>
public sealed class MadviseGuardVsMprotect : Scenario
{
    public override string Name => "madvise-guard-vs-mprotect";

    public override string Description => "madvise(MADV_GUARD_INSTALL) on vma1 under its VMA read lock sets VM_MAYBE_GUARD while mprotect(vma1, PROT_READ|PROT_WRITE|PROT_EXEC) computes vma1's new flags and then write-locks vma1 and stores them; faults run in vma1 and vma2";

    public override bool RunsOn(GenerationInfo generation) => FromV7_0(generation);

    public override Task RunAsync(BootedKernel kernel, int readers) => Run(kernel, readers);

    /// <summary>The scenario's threads, for the proposals that run it on their kernels too.</summary>
    public static Task Run(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var writer = Writer(kernel, "writer", mm, () => kernel.Linux.DoMprotectPkey(mm, Vma1Start, ReadWrite | VmFlags.Exec));
        return Task.WhenAll(GuardInstallAndFaults(kernel, mm, Vma1Start + PageTable.PageSize, readers, i => i % 2 == 1 ? Vma1Start : Vma2Start).Append(writer));
    }
}
