using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// vma_start_read() returns ERR_PTR(-EAGAIN) whenever it cannot take a reference, also when a
/// writer excludes readers (VMA_LOCK_OFFSET set) and the VMA is still attached: its callers then
/// retry the lookup instead of falling back to mmap_lock, spinning under RCU for as long as the
/// writer keeps the VMA. The kernel tells the two apart by the count it saw (oldcnt ? NULL :
/// ERR_PTR(-EAGAIN)), so that only a detached VMA is retried.
/// </summary>
public sealed class AgainWhenExcluded : Mutant
{
    public override string Name => "again-when-excluded";

    public override string Description => "vma_start_read() returns -EAGAIN (retry) instead of NULL (fall back) when a writer excludes readers: lock_vma_under_rcu() spins on an attached VMA";

    public override string Origin =>
        "the oldcnt test of vma_start_read() (v6.15, 2b9f8b0f9e09's series: 'return EAGAIN if vma got detached from under us'), left out: a what-if of the retry loop's bound, never in a release";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(NoRetryWithoutProgress);

    public override IReadOnlyList<string> Replaces => ["vma_start_read"];

    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.15", w => new On6_15(w)), MutantKernel.On("7.0", w => new On7_0(w))];

    /// <summary>vma_start_read() that reports every failed reference as a detached VMA.</summary>
    public interface Patch : Linux6_15
    {
        /// <summary>vma_start_read(), mm/mmap_lock.c (v6.15+), mutated: ERR_PTR(-EAGAIN) whenever the reference cannot be taken.</summary>
        ReadLockOutcome Linux6_15.VmaStartRead(MmStruct mm, VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_start_read", $"{mm.Name}, {vma.Name}");

            if (vma.VmLockSeq.ReadOnce() == mm.MmLockSeq.ReadOnce())
            {
                return fn.Returns(this.VmaStartReadErr(mm, vma, ReadLockOutcome.Failed));
            }

            if (!vma.VmRefcnt.IncNotZeroLimitedAcquire(VmAreaStruct.VmaRefLimit, out _))
            {
                return fn.Returns(this.VmaStartReadErr(mm, vma, ReadLockOutcome.Again));
            }

            var otherMm = vma.VmMmVar.Plain();
            if (otherMm != mm)
            {
                return fn.Returns(this.VmaStartReadErrUnstable(mm, vma, otherMm));
            }

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

    private sealed class On7_0(KernelWorld world) : Booted(world), Linux7_0, Patch;
}
