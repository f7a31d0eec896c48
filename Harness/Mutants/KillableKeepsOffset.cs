using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// vma_start_write_killable() returns -EINTR after a fatal signal but leaves VMA_LOCK_OFFSET in
/// vm_refcnt: readers stay excluded for good, and the next writer overflows the count or waits forever.
/// </summary>
public sealed class KillableKeepsOffset : RefcountMutant
{
    public override string Name => "killable-keeps-offset";

    public override string Description => "__vma_enter_locked() returns -EINTR without refcount_sub(VMA_LOCK_OFFSET) when a fatal signal ends the wait";

    public override string Origin => "the -EINTR path of v6.19's vma_start_write_killable(): the writer's bias must be taken back";

    public override string Scenario => "fault-vs-killable-write";

    /// <summary>
    /// The next vma_start_write() adds a second VMA_LOCK_OFFSET: vm_refcnt overflows (the refcount_t
    /// saturation WARN); in schedules where it does not get that far, the writer waits forever
    /// for a count that can no longer come (a deadlock).
    /// </summary>
    public override string CaughtBy => Finding.KernelBug;

    public override string KernelCheck => "the refcount_t 'saturated; leaking memory' WARN (refcount_warn_saturate()) of refcount_add_not_zero() on vm_refcnt, from the next writer's __vma_enter_locked()";

    protected override RefcountGeneration Port(KernelWorld world, string name) => new Mutated(world, name);

    private sealed class Mutated(KernelWorld world, string name) : RefcountGeneration(world, name)
    {
        /// <summary>Mutated: the offset stays.</summary>
        protected override void VmaEnterLockedInterrupted(VmAreaStruct vma)
        {
        }
    }
}
