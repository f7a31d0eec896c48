using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>vma_start_read() takes its reference with a plain increment, from 0 too: a detached VMA can be read-locked (B10 in v6.15 terms).</summary>
public sealed class RefcountFromZero : RefcountMutant
{
    public override string Name => "refcount-from-zero";

    public override string Description => "vma_start_read() increments vm_refcnt even from 0, so a reader can lock a detached VMA";

    public override string Origin => "B10 in v6.15 terms: readers must never take a reference from 0 (refcount_inc_not_zero)";

    public override string Scenario => "fault-vs-munmap";

    /// <summary>
    /// munmap's vm_area_free() asserts the VMA is detached (vma_assert_detached) and sees the
    /// reference a reader took from 0; in schedules where the fault gets further first,
    /// NoReadLockOnDetachedVma reports it proceeding on the detached VMA (and catches it alone).
    /// </summary>
    public override string CaughtBy => Finding.KernelBug;

    public override string KernelCheck => "WARN_ON_ONCE(refcount_read(&vma->vm_refcnt)) in vma_assert_detached(), called by vm_area_free()";

    protected override RefcountGeneration Port(KernelWorld world, string name) => new Mutated(world, name);

    private sealed class Mutated(KernelWorld world, string name) : RefcountGeneration(world, name)
    {
        /// <summary>Mutated: "inc_limited", without "not_zero".</summary>
        protected override bool VmaRefcountGet(VmAreaStruct vma, out int oldcnt)
        {
            oldcnt = vma.VmRefcnt.Update(v => v + 1 > VmAreaStruct.VmaRefLimit ? v : v + 1, MemoryOrder.Acquire, "refcount_inc_limited_acquire");
            return oldcnt + 1 <= VmAreaStruct.VmaRefLimit;
        }
    }
}
