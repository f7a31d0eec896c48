using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// lock_vma_under_rcu() checks vma->anon_vma before vma_start_read(), as v6.4 shipped
/// (PROTOCOL.md 8, B3; found by Jann Horn). mremap(MREMAP_DONTUNMAP) can unlink the anon_vma
/// between the check and the lock; the fault then runs anon_vma_prepare() holding only the VMA
/// lock, and find_mergeable_anon_vma() reads a neighbour that munmap() frees meanwhile.
/// </summary>
public sealed class AnonVmaCheckBeforeLock : RwsemMutant
{
    public override string Name => "anon-vma-check-before-lock";

    public override string Description => "lock_vma_under_rcu() checks vma->anon_vma before vma_start_read() instead of after";

    public override string Origin => "reverts 657b5146955e (mm: lock_vma_under_rcu() must check vma->anon_vma under vma lock; v6.5)";

    public override string Scenario => "fault-vs-mremap-munmap";

    public override string CaughtBy => nameof(SpecConformance);

    /// <summary>v6.14's lock_vma_under_rcu() leaves anon_vma to the fault handler (vmf_anon_prepare): the check is not there to move.</summary>
    public override bool AppliesTo(GenerationInfo generation) => generation.Kind == VmaLockKind.Rwsem && !generation.Ordering.Seqcount;

    protected override SeqRwsemGeneration Port(KernelWorld world, string name, SequenceOrdering ordering) => new Mutated(world, name, ordering);

    private sealed class Mutated(KernelWorld world, string name, SequenceOrdering ordering) : SeqRwsemGeneration(world, name, ordering)
    {
        /// <summary>Mutated: the anon_vma check comes first.</summary>
        protected override bool ChecksAnonVmaBeforeLock => true;
    }
}
