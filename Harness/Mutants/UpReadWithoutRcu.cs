using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// vma_end_read() calls up_read() outside an RCU read-side critical section: once the count is
/// released a writer can take the lock, detach the VMA and free it (no RCU reader delays the
/// callback), while up_read() goes on to wake waiters through the freed rw_semaphore (PROTOCOL B9).
/// </summary>
public sealed class UpReadWithoutRcu : RwsemMutant
{
    public override string Name => "up-read-without-rcu";

    public override string Description => "vma_end_read() drops rcu_read_lock() around up_read(): up_read's wake-up can touch a VMA freed meanwhile";

    public override string Origin => "the review of the per-VMA lock series v1 (Jan 2023): RCU around up_read() and RCU-delayed VMA freeing";

    public override string Scenario => "fault-vs-munmap";

    public override string CaughtBy => nameof(NoUseAfterFree);

    protected override SeqRwsemGeneration Port(KernelWorld world, string name, SequenceOrdering ordering) => new Mutated(world, name, ordering);

    private sealed class Mutated(KernelWorld world, string name, SequenceOrdering ordering) : SeqRwsemGeneration(world, name, ordering)
    {
        /// <summary>Mutated: no RCU read lock around the release.</summary>
        protected override bool VmaEndReadUnderRcu => false;
    }
}
