using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// lock_vma_under_rcu() calls vma_end_read() after vma_start_read() failed, although
/// vma_start_read() already dropped its reference (docs/protocol.md B12, the 6.15 series syzbot
/// crash): the count underflows, or an attached VMA looks detached to its writer.
/// </summary>
public sealed class DoublePutOnFailure : Mutant
{
    public override string Name => "double-put-on-failure";

    public override string Description => "lock_vma_under_rcu() calls vma_end_read() on the failure path, dropping a reference vma_start_read() already dropped";

    public override string Origin => "B12: the syzbot report against the v6.15 reference-count series";

    public override string Scenario => "fault-vs-munmap";

    /// <summary>The spec sees the unbalanced vma_end_read() first; without it the refcount_t checks fire (see the tests).</summary>
    public override string CaughtBy => nameof(SpecConformance);

    public override IReadOnlyList<string> Replaces => ["lock_vma_under_rcu"];

    /// <summary>v6.15's lock_vma_under_rcu().</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.15", w => new On6_15(w))];

    /// <summary>lock_vma_under_rcu() dropping a reference it no longer holds.</summary>
    public interface Patch : Linux6_15
    {
        /// <summary>lock_vma_under_rcu(), mm/mmap_lock.c, v6.19, mutated: vma_end_read() after vma_start_read() failed (and already dropped its reference).</summary>
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
                    this.VmaEndRead(vma);

                    // Failed to lock the VMA.
                    return fn.Returns(this.LockVmaUnderRcuInval6_15());
                }

                // At this point, we have a stable reference to a VMA.
                this.World.Rcu.ReadUnlock();

                // Check if the vma we locked is the right one.
                if (address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
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
