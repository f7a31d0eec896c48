using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// expand_downwards() without the vma_start_write() of c137381f71ae: the stack's vm_start and
/// vm_pgoff move while page faults hold the VMA's read lock and compute page offsets from them
/// (PROTOCOL.md 8, B6).
/// </summary>
public sealed class StackExpandNoLock : Mutant
{
    public override string Name => "stack-expand-no-lock";

    public override string Description => "expand_downwards() changes vm_start and vm_pgoff without vma_start_write()";

    public override string Origin => "reverts c137381f71ae (mm: lock a vma before stack expansion; v6.5-rc1, v6.4.3)";

    public override string Scenario => "fault-vs-stack-expand";

    public override string CaughtBy => nameof(WriterExcludesReaders);

    public override MmOperations CreateOperations(KernelWorld world, VmaLockGeneration locking) => new Operations(world, locking);

    private sealed class Operations(KernelWorld world, VmaLockGeneration locking) : MmOperations(world, locking)
    {
        /// <summary>Mutated: the stack grows under its readers.</summary>
        protected override bool ExpandLocksVma => false;
    }
}
