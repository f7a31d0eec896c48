using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// mmap_region() write-locks the new file VMA after taking i_mmap_rwsem, as 33313a747e81 first
/// placed it: i_mmap_rwsem → vm_lock, against the order every other path keeps (PROTOCOL B8;
/// lockdep reported it, and 1c7873e33645 moved vma_start_write() before i_mmap_lock_write()).
/// </summary>
public sealed class MmapRegionLockOrder : Mutant
{
    public override string Name => "mmap-region-lock-order";

    public override string Description => "mmap_region() calls vma_start_write() on the new file VMA while holding i_mmap_rwsem";

    public override string Origin => "reverts 1c7873e33645 (mm: lock newly mapped VMA with corrected ordering; v6.5-rc1)";

    public override string Scenario => "fault-vs-file-mmap";

    public override string CaughtBy => nameof(LockOrder);

    public override MmOperations CreateOperations(KernelWorld world, VmaLockGeneration locking) => new Operations(world, locking);

    private sealed class Operations(KernelWorld world, VmaLockGeneration locking) : MmOperations(world, locking)
    {
        /// <summary>Mutated: i_mmap_lock_write() first.</summary>
        protected override bool LocksNewVmaBeforeIMmap => false;
    }
}
