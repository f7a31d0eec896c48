using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// dup_mmap() without the vma_start_write() of fb49c455323f, as v6.4 shipped (PROTOCOL.md 8, B1;
/// the memory corruption that had CONFIG_PER_VMA_LOCK marked BROKEN for v6.4.1/v6.4.2). Page
/// faults of the parent's other threads no longer wait for fork: a copy-on-write fault copies a
/// page that dup_mmap has write-protected but whose stale writable translations it has not yet
/// flushed, and a store through one of them lands in the page the child keeps.
/// </summary>
public sealed class ForkNoParentLock : Mutant
{
    public override string Name => "fork-no-parent-lock";

    public override string Description => "dup_mmap() copies the parent's page tables without vma_start_write() on the parent's VMAs";

    public override string Origin => "reverts fb49c455323f (fork: lock VMAs of the parent process when forking; v6.5-rc1, v6.4.3)";

    public override string Scenario => "fault-vs-fork";

    public override string CaughtBy => nameof(NoLostWrite);

    public override bool AppliesTo(GenerationInfo generation) => true;

    public override MmOperations CreateOperations(KernelWorld world, VmaLockGeneration locking) => new Operations(world, locking);

    private sealed class Operations(KernelWorld world, VmaLockGeneration locking) : MmOperations(world, locking)
    {
        /// <summary>Mutated: the parent's VMAs stay open to page faults during the copy.</summary>
        protected override bool ForkLocksParentVmas => false;
    }
}
