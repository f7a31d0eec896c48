using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// v6.4.0 as released, with both <see cref="ForkNoParentLock"/> (fb49c455323f) and
/// <see cref="AnonVmaCheckBeforeLock"/> (657b5146955e) reverted: the route fb49c455323f's message
/// describes (docs/protocol.md 8, B1). mremap(MREMAP_DONTUNMAP) leaves the parent's VMA without an
/// anon_vma; fork's anon_vma_fork() sees none and links the child's VMA to nothing; a fault that
/// checked anon_vma before locking then runs anon_vma_prepare() and maps a page under the VMA
/// lock fork did not take; copy_page_range(), which looks at anon_vma again, copies that page
/// into a child VMA that the page's anon_vma does not know.
/// </summary>
public sealed class ForkDuringAnonVmaPrepare : Mutant
{
    public override string Name => "fork-during-anon-vma-prepare";

    public override string Description => "v6.4.0: dup_mmap() without parent VMA write locks, and lock_vma_under_rcu() checking anon_vma before vma_start_read()";

    public override string Origin => "reverts fb49c455323f and 657b5146955e together (the anon_vma route of fb49c455323f's message)";

    public override string Scenario => "fault-vs-mremap-fork";

    public override string CaughtBy => nameof(SpecConformance);

    public override IReadOnlyList<string> Replaces => ["dup_mmap", "lock_vma_under_rcu"];

    /// <summary>Where both reverts apply: 6.4 and 6.5.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.4", w => new On6_4(w)), MutantKernel.On("6.5", w => new On6_5(w))];

    /// <summary>Both patches.</summary>
    public interface Patch : ForkNoParentLock.Patch, AnonVmaCheckBeforeLock.Patch
    {
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux6_5, Patch;
}
