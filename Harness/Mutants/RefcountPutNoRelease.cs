using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// A known limit, not in <see cref="MutantRegistry"/>: v6.15's vma_refcount_put() drops the reader's
/// reference with a relaxed decrement instead of __refcount_dec_and_test()'s release. The release
/// orders the reader's accesses in its read section before the decrement, against the writer that
/// waits for the count to drop (__vma_enter_locked()) and then changes, detaches or frees the VMA.
/// What it forbids is a read-section load returning a store the writer makes after it saw the
/// decrement: load buffering, which the promise-free view machine cannot produce (every CPU runs in
/// program order, and a load reads only stores already made). The read section's stores (PTEs,
/// a first anon_vma) are made under page_table_lock / the anon_vma lock, which the writer takes
/// too, so those are ordered without the release. LkmmExploreTests pins its clean result.
/// </summary>
public sealed class RefcountPutNoRelease : RefcountMutant
{
    public override string Name => "refcount-put-no-release";

    public override string Description => "vma_refcount_put() decrements vm_refcnt without release (relaxed): the read section is not ordered before the put";

    public override string Origin => "the release of __refcount_dec_and_test() in v6.15's vma_refcount_put() (include/linux/mmap_lock.h); needs load buffering to show";

    public override string Scenario => "fault-vs-munmap";

    /// <summary>What would catch it if the model had load buffering: the fault reading a field the writer changed after the put.</summary>
    public override string CaughtBy => nameof(NoStaleVmaFieldUnderReadLock);

    public override string Memory => RunRequest.LkmmMemory;

    protected override RefcountGeneration Port(KernelWorld world, string name) => new Mutated(world, name);

    private sealed class Mutated(KernelWorld world, string name) : RefcountGeneration(world, name)
    {
        /// <summary>
        /// Mutated vma_refcount_put(), include/linux/mmap_lock.h (v6.15+): __refcount_dec_and_test()
        /// with atomic_fetch_sub_relaxed (its smp_acquire__after_ctrl_dep() at zero kept).
        /// </summary>
        protected override void VmaRefcountPut(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_refcount_put", vma.Name);
            var mm = vma.VmMmVar.Plain();
            this.World.Emit(new Spec.VmaReferenceDropping(this.Thread, vma.Name, mm.Name, this.World.Current.Mm));
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
}
