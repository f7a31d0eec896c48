using VmaLockVerify.Invariants;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// Reverts 9bbffee67ffd (PROTOCOL.md B11): vma_start_read() does not check vm_mm; as in v6.15,
/// lock_vma_under_rcu() finds the mismatch after the fact and drops the reference with
/// vma_end_read(), whose vma_refcount_put() may wake the writer of another mm that has meanwhile
/// exited and been freed.
/// </summary>
public sealed class MmUafAfterRecycle : RefcountMutant
{
    public override string Name => "mm-uaf-after-recycle";

    public override string Description => "vm_mm is checked in lock_vma_under_rcu() after vma_start_read() returns, and the reference is dropped without pinning the other mm";

    public override string Origin => "reverts 9bbffee67ffd (v6.17-rc1, 6.16.1): B11, use-after-free of the mm of a recycled VMA";

    public override string Scenario => "fault-vs-recycle";

    /// <summary>The put on an unpinned mm is reported at once; the use-after-free itself needs mm2 to be freed in that window too.</summary>
    public override string CaughtBy => nameof(VmaPutHoldsMm);

    protected override RefcountGeneration Port(KernelWorld world, string name) => new Mutated(world, name);

    private sealed class Mutated(KernelWorld world, string name) : RefcountGeneration(world, name)
    {
        /// <summary>Mutated: vma_start_read() trusts that the VMA is the caller's.</summary>
        protected override bool VmaStartReadChecksMm(MmStruct mm, VmAreaStruct vma) => false;

        /// <summary>Mutated: v6.15's check, vm_mm with the range, then goto inval_end_read.</summary>
        protected override bool LockVmaWrongVma(MmStruct mm, VmAreaStruct vma, ulong address) =>
            vma.VmMmVar.Plain() != mm || base.LockVmaWrongVma(mm, vma, address);
    }
}
