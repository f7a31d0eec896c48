using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>lock_vma_under_rcu() gives up when the VMA's range no longer covers the address, but forgets vma_end_read().</summary>
public sealed class RangeFailNoEndRead : RwsemMutant
{
    public override string Name => "range-fail-no-end-read";

    public override string Description => "lock_vma_under_rcu()'s range re-check failure path returns without vma_end_read(): the read lock leaks";

    public override string Origin => "the inval_end_read label of lock_vma_under_rcu() (v6.5): every failure after vma_start_read() must drop the lock";

    public override string Scenario => "fault-vs-merge";

    public override string CaughtBy => nameof(LockOrder); // the fault then takes mmap_lock holding the leaked read lock; alone, ReadLocksReleased catches it

    protected override SeqRwsemGeneration Port(KernelWorld world, string name, SequenceOrdering ordering) => new Mutated(world, name, ordering);

    private sealed class Mutated(KernelWorld world, string name, SequenceOrdering ordering) : SeqRwsemGeneration(world, name, ordering)
    {
        /// <summary>Mutated: goto inval instead of inval_end_read.</summary>
        protected override void LockVmaRangeChanged(VmAreaStruct vma)
        {
        }
    }
}
