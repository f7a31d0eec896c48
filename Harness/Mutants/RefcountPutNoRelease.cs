using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// v6.15's vma_refcount_put() drops the reader's reference with a relaxed decrement instead of
/// __refcount_dec_and_test()'s release. The release orders the reader's accesses in its read
/// section before the decrement, against the writer that waits for the count to drop
/// (__vma_enter_locked()) and then changes, detaches or frees the VMA. Without it, vma_start_read()'s
/// plain re-check of vm_lock_seq is no longer ordered before __vma_start_write()'s WRITE_ONCE: a
/// data race (NoDataRace). What the release forbids beyond that, a read-section load returning a
/// store the writer makes after it saw the decrement, is load buffering, which the promise-free
/// view machine cannot produce; registered without NoDataRace the mutant stays clean
/// (LkmmExploreTests pins both).
/// </summary>
public sealed class RefcountPutNoRelease : Mutant
{
    public override string Name => "refcount-put-no-release";

    public override string Description => "vma_refcount_put() decrements vm_refcnt without release (relaxed): the read section is not ordered before the put";

    public override string Origin => "the release of __refcount_dec_and_test() in v6.15's vma_refcount_put() (include/linux/mmap_lock.h), which pairs with the writer's wait in __vma_enter_locked()";

    public override string Scenario => "fault-vs-munmap";

    public override string CaughtBy => nameof(NoDataRace);

    public override string Memory => RunRequest.LkmmMemory;

    public override IReadOnlyList<string> Replaces => ["vma_refcount_put"];

    /// <summary>v6.15's vma_refcount_put().</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.15", w => new On6_15(w))];

    /// <summary>vma_refcount_put() with a relaxed decrement.</summary>
    public interface Patch : Linux6_15
    {
        /// <summary>
        /// vma_refcount_put(), include/linux/mmap_lock.h (v6.15+), mutated: __refcount_dec_and_test()
        /// with atomic_fetch_sub_relaxed (its smp_acquire__after_ctrl_dep() at zero kept).
        /// </summary>
        void Linux6_15.VmaRefcountPut(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_refcount_put", vma.Name);

            // Use a copy of vm_mm in case vma is freed after we drop vm_refcnt.
            var mm = vma.VmMmVar.Plain();
            this.World.Emit(new VmaReferenceDropping(this.Thread, vma.Name, mm.Name, this.World.Current.Mm));
            var oldcnt = vma.VmRefcnt.Update(v => v - 1, MemoryOrder.Relaxed, "__refcount_dec_and_test (relaxed)");
            if (oldcnt == 1)
            {
                this.World.Barrier(MemoryBarrier.Rmb);
            }
            else if (IsVmaWriterOnly(oldcnt - 1))
            {
                Rcuwait.WakeUp(mm.VmaWriterWait);
            }
        }
    }

    private sealed class On6_15(KernelWorld world) : Booted(world), Patch;
}
