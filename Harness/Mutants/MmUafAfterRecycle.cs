using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// Reverts 9bbffee67ffd (docs/protocol.md B11): vma_start_read() does not check vm_mm; as in v6.15,
/// lock_vma_under_rcu() finds the mismatch after the fact and drops the reference with
/// vma_end_read(), whose vma_refcount_put() may wake the writer of another mm that has meanwhile
/// exited and been freed.
/// </summary>
public sealed class MmUafAfterRecycle : Mutant
{
    public override string Name => "mm-uaf-after-recycle";

    public override string Description => "vm_mm is checked in lock_vma_under_rcu() after vma_start_read() returns, and the reference is dropped without pinning the other mm";

    public override string Origin => "reverts 9bbffee67ffd (v6.17-rc1, 6.16.1): B11, use-after-free of the mm of a recycled VMA";

    public override string Scenario => "fault-vs-recycle";

    /// <summary>The put on an unpinned mm is reported at once; the use-after-free itself needs mm2 to be freed in that window too.</summary>
    public override string CaughtBy => nameof(VmaPutHoldsMm);

    public override IReadOnlyList<string> Replaces => ["vma_start_read", "lock_vma_under_rcu"];

    /// <summary>v6.15: the release 9bbffee67ffd fixed (the port's 6.15 is the v6.19 form, with the fix).</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.15", w => new On6_15(w))];

    /// <summary>vma_start_read() and lock_vma_under_rcu() before 9bbffee67ffd.</summary>
    public interface Patch : Linux6_15
    {
        /// <summary>vma_start_read(), include/linux/mmap_lock.h, v6.15, before 9bbffee67ffd: it trusts that the VMA is the caller's.</summary>
        ReadLockOutcome Linux6_15.VmaStartRead(MmStruct mm, VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_start_read", $"{mm.Name}, {vma.Name}");

            // Check before locking. A race might cause false locked result.
            if (vma.VmLockSeq.ReadOnce() == mm.MmLockSeq.ReadOnce())
            {
                return fn.Returns(this.VmaStartReadErr(mm, vma, ReadLockOutcome.Failed));
            }

            if (!vma.VmRefcnt.IncNotZeroLimitedAcquire(VmAreaStruct.VmaRefLimit, out var oldcnt))
            {
                // Return -EAGAIN if vma got detached from under us.
                return fn.Returns(this.VmaStartReadErr(mm, vma, oldcnt == 0 ? ReadLockOutcome.Again : ReadLockOutcome.Failed));
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

        /// <summary>lock_vma_under_rcu(), mm/mmap_lock.c, v6.15, before 9bbffee67ffd: vm_mm checked with the range, then vma_end_read().</summary>
        VmAreaStruct? Linux.LockVmaUnderRcu(MmStruct mm, ulong address)
        {
            using var fn = this.World.Enter("lock_vma_under_rcu", $"{mm.Name}, {VmAreaStruct.Hex(address)}");
            while (true) // retry:
            {
                this.World.Rcu.ReadLock();
                var vma = mm.MmMt.MasWalk(address);
                if (vma is null)
                {
                    this.World.Rcu.ReadUnlock();
                    return fn.Returns(this.LockVmaUnderRcuInval6_15());
                }

                var locked = this.VmaStartRead(mm, vma);
                if (locked == ReadLockOutcome.Again)
                {
                    // Check if the VMA got isolated after we found it: the area was replaced with another one.
                    this.World.CountVmEvent("VMA_LOCK_MISS");
                    this.VmaLookupRetried(mm, vma);
                    continue;
                }

                if (locked == ReadLockOutcome.Failed)
                {
                    // Failed to lock the VMA.
                    return fn.Returns(this.LockVmaUnderRcuInval6_15());
                }

                // At this point, we have a stable reference to a VMA.
                this.World.Rcu.ReadUnlock();

                // Check if the vma we locked is the right one.
                if (vma.VmMmVar.Plain() != mm || address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
                {
                    this.VmaEndRead(vma);
                    return fn.Returns(this.LockVmaUnderRcuInval6_15());
                }

                this.World.Emit(new FaultLockedVma(this.Thread, mm.Name, vma.Name, address));
                return fn.Returns(vma);
            }
        }
    }

    private sealed class On6_15(KernelWorld world) : Booted(world), Patch;
}
