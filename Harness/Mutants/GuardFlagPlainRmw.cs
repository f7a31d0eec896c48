using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// madvise_guard_install() marks the VMA with a plain read-modify-write of vm_flags
/// (vma->vm_flags |= VM_MAYBE_GUARD, as vm_flags_set() would store it but without its
/// vma_start_write()) instead of set_bit(), still under the VMA read lock only. A what-if: the
/// kernel never shipped it; 6.19 introduced VM_MAYBE_GUARD together with the atomic
/// vma_flag_set_atomic() (v7.0's vma_set_atomic_flag()), because a plain store under a read lock
/// can undo another reader's set and is a field change without the write lock.
/// </summary>
public sealed class GuardFlagPlainRmw : Mutant
{
    public override string Name => "guard-flag-plain-rmw";

    public override string Description => "vma_set_atomic_flag() sets VM_MAYBE_GUARD with a plain load and store of vm_flags under the VMA read lock instead of set_bit()";

    public override string Origin => "a what-if: the plain store VM_ATOMIC_SET_ALLOWED and set_bit() exist to avoid (no kernel shipped it)";

    public override string Scenario => "madvise-guard-vs-merge";

    public override string CaughtBy => nameof(SpecConformance);

    public override IReadOnlyList<string> Replaces => ["vma_set_atomic_flag"];

    /// <summary>The generation with madvise under the VMA read lock.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("7.0", w => new On7_0(w))];

    /// <summary>vma_set_atomic_flag() with a plain read-modify-write.</summary>
    public interface Patch : Linux7_0
    {
        /// <summary>vma_set_atomic_flag(), include/linux/mm.h (v7.0), mutated: vma->vm_flags |= bit, a plain load and store.</summary>
        void Linux7_0.VmaSetAtomicFlag(VmAreaStruct vma, VmFlags bit)
        {
            using var fn = this.World.Enter("vma_set_atomic_flag", $"{vma.Name}, {VmFlagsFormat.Describe((ulong)bit)}");
            this.VmaAssertStabilised(vma);
            if (this.__VmaAtomicValidFlag(vma, bit))
            {
                vma.VmFlags.SetPlain(vma.VmFlags.Plain() | (ulong)bit);
            }
        }
    }

    private sealed class On7_0(KernelWorld world) : Booted(world), Patch;
}
