using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// v6.15's vma_start_read() takes its reference with a relaxed increment instead of
/// __refcount_inc_not_zero_limited_acquire(): the checks after the increment (vm_mm, and
/// vm_lock_seq against mm_lock_seq) are no longer ordered after it. A reader whose increment reads
/// the count __vma_start_write() left (its refcount_sub_and_test() of VMA_LOCK_OFFSET is a release,
/// after WRITE_ONCE(vma->vm_lock_seq)) can still read the old vm_lock_seq, see it differ from the
/// current sequence, and take the read lock of a VMA write-locked in that sequence. That load is
/// plain in the kernel (<c>vma->vm_lock_seq == raw_read_seqcount(...)</c>, relying on the
/// acquire), so with every invariant the first report is its data race with
/// __vma_start_write()'s WRITE_ONCE; registered without NoDataRace, NoReadOnWriteMarkedVma
/// reports the read lock itself (LkmmExploreTests).
/// </summary>
public sealed class RefcountGetNoAcquire : Mutant
{
    public override string Name => "refcount-get-no-acquire";

    public override string Description => "vma_start_read() increments vm_refcnt without acquire: the vm_mm and vm_lock_seq checks after it may read values from before the writer's exclusion ended";

    public override string Origin => "the _acquire of __refcount_inc_not_zero_limited_acquire() in v6.15's vma_start_read() (include/linux/mmap_lock.h), which pairs with __vma_exit_locked()'s release";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(NoDataRace);

    public override string Memory => RunRequest.LkmmMemory;

    public override IReadOnlyList<string> Replaces => ["vma_start_read"];

    /// <summary>v6.15's vma_start_read().</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.15", w => new On6_15(w))];

    /// <summary>vma_start_read() whose increment is relaxed.</summary>
    public interface Patch : Linux6_15
    {
        /// <summary>vma_start_read(), mm/mmap_lock.c, v6.19, mutated: the increment's CAS loop with try_cmpxchg_relaxed.</summary>
        ReadLockOutcome Linux6_15.VmaStartRead(MmStruct mm, VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_start_read", $"{mm.Name}, {vma.Name}");

            // Check before locking. A race might cause false locked result.
            if (vma.VmLockSeq.ReadOnce() == mm.MmLockSeq.ReadOnce())
            {
                return fn.Returns(this.VmaStartReadErr(mm, vma, ReadLockOutcome.Failed));
            }

            if (!vma.VmRefcnt.IncNotZeroLimited(VmAreaStruct.VmaRefLimit, out var oldcnt, MemoryOrder.Relaxed, "__refcount_inc_not_zero_limited (relaxed)"))
            {
                // Return -EAGAIN if vma got detached from under us.
                return fn.Returns(this.VmaStartReadErr(mm, vma, oldcnt == 0 ? ReadLockOutcome.Again : ReadLockOutcome.Failed));
            }

            // If vma got attached to another mm from under us, that mm is not stable (use a copy).
            var otherMm = vma.VmMmVar.Plain();
            if (otherMm != mm)
            {
                return fn.Returns(this.VmaStartReadErrUnstable(mm, vma, otherMm));
            }

            // Overflow of vm_lock_seq/mm_lock_seq might produce false locked result. ACQUIRE pairs
            // with RELEASE semantics in vma_end_write_all().
            if (vma.VmLockSeq.Plain() == mm.MmLockSeq.LoadAcquire())
            {
                this.VmaRefcountPut(vma);
                return fn.Returns(this.VmaStartReadErr(mm, vma, ReadLockOutcome.Failed));
            }

            this.VmaStartReadReturned(mm, vma, true);
            return fn.Returns(ReadLockOutcome.Locked);
        }
    }

    private sealed class On6_15(KernelWorld world) : Booted(world), Patch;
}
