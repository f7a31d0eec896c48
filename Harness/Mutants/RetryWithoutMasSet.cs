using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// lock_vma_under_rcu() as 0b16f8bed19c left it: vma_start_read() now drops RCU when it fails, but
/// the -EAGAIN retry re-enters RCU and walks on with the same ma_state, whose cached node a grace
/// period may have freed in between: a use-after-free in mas_walk() (syzbot 131f9eb2b5807573275c).
/// </summary>
public sealed class RetryWithoutMasSet : Mutant
{
    public override string Name => "retry-without-mas-set";

    public override string Description => "lock_vma_under_rcu() retries after -EAGAIN without mas_set(): mas_walk() starts from a node cached in an RCU section that has ended";

    public override string Origin => "reverts the mas_set(&mas, address) of the fix of syzbot 131f9eb2b5807573275c (6.18-rc; Fixes: 0b16f8bed19c, vma_start_read() dropping RCU on failure)";

    public override string Scenario => "fault-vs-munmap";

    public override string CaughtBy => nameof(NoUseAfterFree);

    public override IReadOnlyList<string> Replaces => ["lock_vma_under_rcu"];

    /// <summary>The generation whose lock_vma_under_rcu() keeps an ma_state (6.15's port walks from the top each time).</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("7.0", w => new On7_0(w))];

    /// <summary>lock_vma_under_rcu() before the fix.</summary>
    public interface Patch : Linux7_0
    {
        /// <summary>lock_vma_under_rcu(), mm/mmap_lock.c, after 0b16f8bed19c and before the fix of syzbot 131f9eb2b5807573275c: the retry keeps the ma_state.</summary>
        VmAreaStruct? Linux.LockVmaUnderRcu(MmStruct mm, ulong address)
        {
            using var fn = this.World.Enter("lock_vma_under_rcu", $"{mm.Name}, {VmAreaStruct.Hex(address)}");
            var mas = new MaState(mm.MmMt, address);
            while (true) // retry:
            {
                this.World.Rcu.ReadLock();
                var vma = mm.MmMt.MasWalk(mas);
                if (vma is null)
                {
                    this.World.Rcu.ReadUnlock();
                    return fn.Returns(this.LockVmaUnderRcuInval6_15());
                }

                var locked = this.VmaStartRead(mm, vma);
                if (locked == ReadLockOutcome.Again)
                {
                    // The area was replaced with another one: walk again (from the cached node).
                    this.World.CountVmEvent("VMA_LOCK_MISS");
                    this.VmaLookupRetried(mm, vma);
                    continue;
                }

                if (locked == ReadLockOutcome.Failed)
                {
                    return fn.Returns(this.LockVmaUnderRcuInval6_15());
                }

                this.World.Rcu.ReadUnlock();
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

    private sealed class On7_0(KernelWorld world) : Booted(world), Patch;
}
