using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Proposals;

/// <summary>
/// What-if: mprotect_fixup() keeps the vm_flags bits a reader may have set atomically since
/// do_mprotect_pkey() computed the new flags. v7.0 computes them from vma->vm_flags under
/// mmap_lock alone, before the VMA is write-locked, and stores them with vm_flags_reset_once();
/// a MADV_GUARD_INSTALL under the VMA read lock that sets VM_MAYBE_GUARD in between is overwritten
/// (madvise-guard-vs-mprotect, the kernel's own finding on 7.0). Here, once the VMA is
/// write-locked (no reader can set a bit any more), the bits of VM_ATOMIC_SET_ALLOWED are read
/// again and kept. The read needs the writer's wait for readers to acquire what they stored, so
/// the patch is built on exclude-readers-acquire (and so has its vma_expand() too).
/// </summary>
public sealed class MprotectKeepsAtomicFlags : Proposal
{
    public override string Name => "mprotect-keeps-atomic-flags";

    public override string Description => "mprotect_fixup() ORs into the new flags the VM_ATOMIC_SET_ALLOWED bits the VMA has once it is write-locked, so a guard install between do_mprotect_pkey()'s read of vm_flags and the write lock keeps its VM_MAYBE_GUARD; on exclude-readers-acquire";

    public override string Origin => "a what-if: no posted patch; v7.0's mprotect_fixup() stores the flags do_mprotect_pkey() computed before the write lock";

    public override IReadOnlyList<string> Adds => [];

    public override IReadOnlyList<string> Replaces => ["mprotect_fixup", "vma_expand", "__vma_start_exclude_readers"];

    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("7.0", w => new On7_0(w))];

    public override IReadOnlyList<ProposalScenario> Scenarios { get; } =
    [
        new PatchedScenario(
            "mprotect-keeps-guard",
            "madvise-guard-vs-mprotect with mprotect_fixup() keeping the atomically set bits, under lkmm: a guard install under vma1's read lock while mprotect() changes vma1's protection",
            expected: null,
            RunRequest.LkmmMemory,
            MadviseGuardVsMprotect.Run),
    ];

    /// <summary>mprotect_fixup() keeping VM_ATOMIC_SET_ALLOWED, over exclude-readers-acquire.</summary>
    public interface Patch : ExcludeReadersAcquire.Patch
    {
        /// <summary>
        /// mprotect_fixup(), mm/mprotect.c, the port's body with the what-if: after the VMA is
        /// write-locked, the bits of VM_ATOMIC_SET_ALLOWED it has are ORed into the flags stored.
        /// </summary>
        int Linux.MprotectFixup(VmAreaStruct vma, VmFlags newFlags, bool killable)
        {
            using var fn = this.World.Enter("mprotect_fixup", vma.Name);
            if (killable)
            {
                var error = this.VmaStartWriteKillable(vma);
                if (error != 0)
                {
                    return fn.Returns(error);
                }
            }
            else
            {
                this.VmaStartWrite(vma);
            }

            // Write-locked: no reader sets a bit from now on; keep those set since newflags was computed.
            var newflags = (ulong)newFlags | (vma.VmFlags.Plain() & VmAtomicSetAllowed);
            this.VmFlagsReset(vma, newflags);
            return fn.Returns(0);
        }
    }

    private sealed class On7_0(KernelWorld world) : Booted(world), Patch;
}
