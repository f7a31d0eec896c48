using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// A writer converted to vma_start_write_killable() that ignores its -EINTR: mprotect_fixup() goes
/// on to change vm_flags after a fatal signal ended the wait for readers, on a VMA it has not
/// write-locked, while the readers it was waiting for still hold their read locks (issue 13: each
/// killable writer gets an -EINTR exit, and this mutant is one that forgot it). Built with
/// CONFIG_DEBUG_VM, the kernel's vma_assert_write_locked() in vm_flags_reset() reports it.
/// </summary>
public sealed class KillableIgnoresEintr : Mutant
{
    public override string Name => "killable-ignores-eintr";

    public override string Description => "mprotect_fixup() ignores -EINTR from vma_start_write_killable() and changes vm_flags as if it held the VMA write lock";

    public override string Origin => "the -EINTR exit (`if (error) goto fail;`) of mprotect_fixup()'s move to vma_start_write_killable(), left out (issue 13's killable writers)";

    public override string Scenario => "fault-vs-killable-write";

    /// <summary>
    /// vm_flags_reset() asserts the VMA write lock before it stores (CONFIG_DEBUG_VM): the kernel's
    /// own check fires before readers can see the change.
    /// </summary>
    public override string CaughtBy => Finding.KernelBug;

    public override string KernelCheck => "vma_assert_write_locked() in vm_flags_reset(): VM_WARN_ON_ONCE_VMA in v7.0, VM_BUG_ON_VMA before";

    public override IReadOnlyList<string> Replaces => ["mprotect_fixup"];

    /// <summary>The generations whose vma_start_write_killable() can return -EINTR.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } =
        [MutantKernel.On("6.15", w => new On6_15(w)), MutantKernel.On("7.0", w => new On7_0(w))];

    /// <summary>mprotect_fixup() without its -EINTR exit.</summary>
    public interface Patch : Linux
    {
        /// <summary>mprotect_fixup(), mm/mprotect.c, killable, mutated: vma_start_write_killable()'s result is dropped.</summary>
        int Linux.MprotectFixup(VmAreaStruct vma, VmFlags newFlags, bool killable)
        {
            using var fn = this.World.Enter("mprotect_fixup", vma.Name);
            if (killable)
            {
                // The error is not looked at: the flags change whether or not the VMA is write-locked.
                _ = this.VmaStartWriteKillable(vma);
            }
            else
            {
                this.VmaStartWrite(vma);
            }

            this.VmFlagsReset(vma, (ulong)newFlags);
            return fn.Returns(0);
        }
    }

    private sealed class On6_15(KernelWorld world) : Booted(world), Linux6_15, Patch;

    private sealed class On7_0(KernelWorld world) : Booted(world), Linux7_0, Patch;
}
