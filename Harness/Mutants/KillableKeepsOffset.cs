using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// vma_start_write_killable() returns -EINTR after a fatal signal but leaves VMA_LOCK_OFFSET in
/// vm_refcnt: readers stay excluded for good, and the next writer overflows the count or waits forever.
/// </summary>
public sealed class KillableKeepsOffset : Mutant
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

    public override IReadOnlyList<string> Replaces => ["__vma_enter_locked"];

    /// <summary>v6.19's __vma_enter_locked(), in the 6.15 generation.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.15", w => new On6_15(w))];

    /// <summary>__vma_enter_locked() that keeps the offset after a fatal signal.</summary>
    public interface Patch : Linux6_15
    {
        /// <summary>__vma_enter_locked(), mm/mmap_lock.c, v6.19, mutated: -EINTR without refcount_sub(VMA_LOCK_OFFSET).</summary>
        int Linux6_15.__VmaEnterLocked(VmAreaStruct vma, bool detaching, bool killable)
        {
            using var fn = this.World.Enter("__vma_enter_locked", $"{vma.Name}{(detaching ? ", detaching" : "")}");
            var tgtRefcnt = VmAreaStruct.VmaLockOffset + (detaching ? 0 : 1);

            // If vma is detached then only vma_mark_attached() can raise the vm_refcnt.
            if (!vma.VmRefcnt.AddNotZero(VmAreaStruct.VmaLockOffset))
            {
                return fn.Returns(0);
            }

            var drained = Rcuwait.WaitEvent(
                vma.VmMm.VmaWriterWait,
                () => vma.VmRefcnt.RefcountRead() == tgtRefcnt,
                killable ? () => this.World.Chance($"fatal signal for {this.Thread} while it waits for the readers of {vma.Name}", 4) : null);
            if (!drained)
            {
                return fn.Returns(-Errno.EINTR);
            }

            return fn.Returns(1);
        }
    }

    private sealed class On6_15(KernelWorld world) : Booted(world), Patch;
}
