using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>lock_vma_under_rcu() omits the detached re-check (PROTOCOL.md B10).</summary>
public sealed class SkipDetachedCheck : RwsemMutant
{
    public override string Name => "skip-detached-check";

    public override string Description => "lock_vma_under_rcu() omits the vma->detached re-check after locking";

    public override string Origin => "B10: munmap detaches, then downgrades (releasing the VMA write lock); a fault that found the VMA earlier locks it and proceeds";

    public override string Scenario => "fault-vs-munmap";

    public override string CaughtBy => nameof(NoReadLockOnDetachedVma);

    protected override SeqRwsemGeneration Port(KernelWorld world, string name, SequenceOrdering ordering) => new Mutated(world, name, ordering);

    private sealed class Mutated(KernelWorld world, string name, SequenceOrdering ordering) : SeqRwsemGeneration(world, name, ordering)
    {
        /// <summary>Mutated: never looks at vma->detached.</summary>
        protected override bool LockVmaIsDetached(VmAreaStruct vma) => false;
    }
}
