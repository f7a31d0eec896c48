using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>lock_vma_under_rcu() gives up when the VMA's range no longer covers the address, but forgets vma_end_read().</summary>
public sealed class RangeFailNoEndRead : Mutant
{
    public override string Name => "range-fail-no-end-read";

    public override string Description => "lock_vma_under_rcu()'s range re-check failure path returns without vma_end_read(): the read lock leaks";

    public override string Origin => "the inval_end_read label of lock_vma_under_rcu() (v6.5): every failure after vma_start_read() must drop the lock";

    public override string Scenario => "fault-vs-merge";

    public override string CaughtBy => nameof(LockOrder); // the fault then takes mmap_lock holding the leaked read lock; alone, ReadLocksReleased catches it

    public override IReadOnlyList<string> Replaces => ["lock_vma_under_rcu"];

    /// <summary>The rw_semaphore generations: v6.5's lock_vma_under_rcu() (also 6.4's, with 657b5146955e) and v6.14's.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.4", w => new On6_4(w)), MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w))];

    /// <summary>lock_vma_under_rcu() whose range re-check goes to the wrong label.</summary>
    public interface Patch : Linux
    {
        /// <summary>lock_vma_under_rcu(), mm/memory.c, v6.5, mutated: the range re-check fails to <c>inval</c> instead of <c>inval_end_read</c>.</summary>
        VmAreaStruct? Linux.LockVmaUnderRcu(MmStruct mm, ulong address)
        {
            using var fn = this.World.Enter("lock_vma_under_rcu", $"{mm.Name}, {VmAreaStruct.Hex(address)}");
            this.World.Rcu.ReadLock();
            while (true) // retry:
            {
                var vma = mm.MmMt.MasWalk(address);
                if (vma is null)
                {
                    return fn.Returns(this.LockVmaUnderRcuInval());
                }

                // Only anonymous vmas are supported for now.
                if (!vma.IsAnonymous)
                {
                    return fn.Returns(this.LockVmaUnderRcuInval());
                }

                if (!this.VmaStartRead(vma))
                {
                    return fn.Returns(this.LockVmaUnderRcuInval());
                }

                // Only after vma_start_read(): anon_vma_prepare() would look at unlocked neighbours, and
                // an mremap(MREMAP_DONTUNMAP) in between could take this VMA's anon_vma away (657b5146955e).
                if (vma.AnonVma.Plain() is null)
                {
                    return fn.Returns(this.LockVmaUnderRcuInvalEndRead(vma));
                }

                // A userfaultfd handler may drop mmap_lock: such VMAs take the mmap_lock path instead.
                if (UserfaultfdArmed(vma))
                {
                    return fn.Returns(this.LockVmaUnderRcuInvalEndRead(vma));
                }

                // Check since vm_start/vm_end might change before we lock the VMA.
                if (address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
                {
                    return fn.Returns(this.LockVmaUnderRcuInval());
                }

                // Check if the VMA got isolated after we found it.
                if (vma.Detached.Plain())
                {
                    this.VmaEndRead(vma);
                    this.World.CountVmEvent("VMA_LOCK_MISS");
                    this.VmaLookupRetried(mm, vma);

                    // The area was replaced with another one.
                    continue;
                }

                return fn.Returns(this.LockVmaUnderRcuFound(mm, vma, address));
            }
        }
    }

    /// <summary>The same mutation of v6.14's lock_vma_under_rcu().</summary>
    public interface PatchV6_14 : Linux6_14
    {
        /// <summary>lock_vma_under_rcu(), mm/memory.c, v6.14, mutated: the range re-check fails to <c>inval</c> instead of <c>inval_end_read</c>.</summary>
        VmAreaStruct? Linux.LockVmaUnderRcu(MmStruct mm, ulong address)
        {
            using var fn = this.World.Enter("lock_vma_under_rcu", $"{mm.Name}, {VmAreaStruct.Hex(address)}");
            this.World.Rcu.ReadLock();
            while (true) // retry:
            {
                var vma = mm.MmMt.MasWalk(address);
                if (vma is null)
                {
                    return fn.Returns(this.LockVmaUnderRcuInval());
                }

                if (!this.VmaStartRead(vma))
                {
                    return fn.Returns(this.LockVmaUnderRcuInval());
                }

                // Check if the VMA got isolated after we found it.
                if (vma.Detached.Plain())
                {
                    this.VmaEndRead(vma);
                    this.World.CountVmEvent("VMA_LOCK_MISS");
                    this.VmaLookupRetried(mm, vma);

                    // The area was replaced with another one.
                    continue;
                }

                // Check since vm_start/vm_end might change before we lock the VMA.
                if (address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
                {
                    return fn.Returns(this.LockVmaUnderRcuInval());
                }

                return fn.Returns(this.LockVmaUnderRcuFound(mm, vma, address));
            }
        }
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux6_5, Patch;

    private sealed class On6_14(KernelWorld world) : Booted(world), PatchV6_14;
}
