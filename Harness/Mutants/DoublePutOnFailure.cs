using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// lock_vma_under_rcu() calls vma_end_read() after vma_start_read() failed, although
/// vma_start_read() already dropped its reference (PROTOCOL.md B12, the 6.15 series syzbot
/// crash): the count underflows, or an attached VMA looks detached to its writer.
/// </summary>
public sealed class DoublePutOnFailure : RefcountMutant
{
    public override string Name => "double-put-on-failure";

    public override string Description => "lock_vma_under_rcu() calls vma_end_read() on the failure path, dropping a reference vma_start_read() already dropped";

    public override string Origin => "B12: the syzbot report against the v6.15 reference-count series";

    public override string Scenario => "fault-vs-munmap";

    /// <summary>The spec sees the unbalanced vma_end_read() first; without it the refcount_t checks fire (see the tests).</summary>
    public override string CaughtBy => nameof(SpecConformance);

    protected override RefcountGeneration Port(KernelWorld world, string name) => new Mutated(world, name);

    private sealed class Mutated(KernelWorld world, string name) : RefcountGeneration(world, name)
    {
        /// <summary>Mutated: an extra vma_end_read().</summary>
        protected override void LockVmaStartReadFailed(VmAreaStruct vma) => this.VmaEndRead(vma);
    }
}
