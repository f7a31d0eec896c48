using VmaLockVerify.Implementation.Fs;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// lock_next_vma() without its check that the VMA it locked is not behind the last position: a
/// VMA found under RCU and shrunk by a split that finished before vma_start_read() is locked and
/// returned although it now ends at or below the position, so /proc/PID/maps shows a line again
/// (or one behind the last). The check has been there since the readers moved to per-VMA locks
/// (6.17); this is a what-if of leaving it out.
/// </summary>
public sealed class MapsNoPositionCheck : Mutant
{
    public override string Name => "maps-no-position-check";

    public override string Description => "lock_next_vma() returns the VMA it locked without checking from_addr >= vma->vm_end: a VMA that shrank after the lookup is shown behind the last line";

    public override string Origin =>
        "the 'Verify the vma is not behind the last search position' check of lock_next_vma() (mm/mmap_lock.c, 6.17 'fs/proc/task_mmu: read proc/pid/maps under per-vma lock', kept in v7.0), left out: a what-if, never in a release";

    public override string Scenario => "maps-reader-vs-writers";

    public override string CaughtBy => nameof(NoTornVmaRange);

    public override IReadOnlyList<string> Replaces => ["lock_next_vma"];

    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("7.0", w => new On7_0(w))];

    /// <summary>lock_next_vma() without the position check.</summary>
    public interface Patch : Linux7_0
    {
        /// <summary>lock_next_vma(), mm/mmap_lock.c (v7.0), mutated: the check from_addr >= vma->vm_end is gone.</summary>
        VmaPtr Linux7_0.LockNextVma(MmStruct mm, VmaIterator vmi, ulong fromAddr)
        {
            using var fn = this.World.Enter("lock_next_vma", $"{mm.Name}, &vmi, {VmAreaStruct.Hex(fromAddr)}");
            this.World.VmBugOn(!this.World.Rcu.ReadLockHeld, "RCU_LOCKDEP_WARN(!rcu_read_lock_held(), \"no rcu read lock held\") in lock_next_vma");
            while (true) // retry:
            {
                var mmapUnlocked = this.MmapLockSpeculateTryBegin(mm, out var mmWrSeq);
                var vma = this.VmaNext(vmi);
                if (vma is null)
                {
                    return fn.Returns(VmaPtr.Null);
                }

                var locked = this.VmaStartRead(mm, vma);
                if (locked != ReadLockOutcome.Locked)
                {
                    if (locked == ReadLockOutcome.Again)
                    {
                        this.VmaLookupRetried(mm, vma);
                        this.World.Rcu.ReadLock();
                        this.VmaIterSet(vmi, fromAddr);
                        continue;
                    }

                    return fn.Returns(this.LockNextVmaFallback(mm, vmi, fromAddr));
                }

                if (fromAddr < vma.VmStart.Plain())
                {
                    if (!mmapUnlocked || this.MmapLockSpeculateRetry(mm, mmWrSeq))
                    {
                        this.VmaIterSet(vmi, fromAddr);
                        if (vma != this.VmaNext(vmi))
                        {
                            return fn.Returns(this.LockNextVmaFallbackUnlock(mm, vmi, fromAddr, vma));
                        }
                    }
                }

                return fn.Returns<VmaPtr>(vma);
            }
        }
    }

    private sealed class On7_0(KernelWorld world) : Booted(world), Patch;
}
