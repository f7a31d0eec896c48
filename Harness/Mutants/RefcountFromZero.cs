using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>vma_start_read() takes its reference with a plain increment, from 0 too: a detached VMA can be read-locked (B10 in v6.15 terms).</summary>
public sealed class RefcountFromZero : Mutant
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

    public override IReadOnlyList<string> Replaces => ["vma_start_read"];

    /// <summary>v6.15's vma_start_read().</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.15", w => new On6_15(w))];

    /// <summary>vma_start_read() taking its reference from 0 too.</summary>
    public interface Patch : Linux6_15
    {
        /// <summary>vma_start_read(), mm/mmap_lock.c, v6.19, mutated: "inc_limited", without "not_zero".</summary>
        ReadLockOutcome Linux6_15.VmaStartRead(MmStruct mm, VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_start_read", $"{mm.Name}, {vma.Name}");

            // Check before locking. A race might cause false locked result.
            if (vma.VmLockSeq.ReadOnce() == mm.MmLockSeq.ReadOnce())
            {
                return fn.Returns(this.VmaStartReadErr(mm, vma, ReadLockOutcome.Failed));
            }

            var oldcnt = vma.VmRefcnt.Update(v => v + 1 > VmAreaStruct.VmaRefLimit ? v : v + 1, MemoryOrder.Acquire, "refcount_inc_limited_acquire");
            if (oldcnt + 1 > VmAreaStruct.VmaRefLimit)
            {
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
