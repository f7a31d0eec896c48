using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// mmap_region() without the vma_start_write() of 33313a747e81 (PROTOCOL.md 8, B7): the new VMA
/// is visible in the tree before it is write-locked, and mmap_region() goes on setting it up
/// (vma_set_page_prot()) while a page fault may already hold it. In 6.4 and 6.5 a fault holds a
/// new anonymous VMA only between vma_start_read() and the anon_vma check that makes
/// lock_vma_under_rcu() give it up (the fix's message calls the race latent); from 6.7 faults
/// proceed on such VMAs.
/// </summary>
public sealed class NewVmaVisibleUnlocked : Mutant
{
    public override string Name => "new-vma-visible-unlocked";

    public override string Description => "mmap_region() inserts the new VMA without vma_start_write() and then changes its vm_page_prot";

    public override string Origin => "reverts 33313a747e81 (mm: lock newly mapped VMA which can be modified after it becomes visible; v6.5-rc1, v6.4.3)";

    public override string Scenario => "fault-vs-mmap";

    public override string CaughtBy => nameof(SpecConformance);

    public override MmOperations CreateOperations(KernelWorld world, VmaLockGeneration locking) => new Operations(world, locking);

    private sealed class Operations(KernelWorld world, VmaLockGeneration locking) : MmOperations(world, locking)
    {
        /// <summary>Mutated: the new VMA is published unlocked.</summary>
        protected override bool MmapRegionLocksNewVma => false;
    }
}
