using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>lock_vma_under_rcu() omits the detached re-check (docs/protocol.md B10).</summary>
public sealed class SkipDetachedCheck : Mutant
{
    public override string Name => "skip-detached-check";

    public override string Description => "lock_vma_under_rcu() omits the vma->detached re-check after locking";

    public override string Origin => "B10: munmap detaches, then downgrades (releasing the VMA write lock); a fault that found the VMA earlier locks it and proceeds";

    public override string Scenario => "fault-vs-munmap";

    public override string CaughtBy => nameof(NoReadLockOnDetachedVma);

    public override IReadOnlyList<string> Replaces => ["lock_vma_under_rcu"];

    /// <summary>The rw_semaphore generations: v6.5's lock_vma_under_rcu() (also 6.4's, with 657b5146955e) and v6.14's.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.4", w => new On6_4(w)), MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w))];

    /// <summary>lock_vma_under_rcu() without the detached re-check.</summary>
    public interface Patch : Linux
    {
        /// <summary>lock_vma_under_rcu(), mm/memory.c, v6.5, mutated: never looks at vma->detached.</summary>
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
                    return fn.Returns(this.LockVmaUnderRcuInvalEndRead(vma));
                }

                return fn.Returns(this.LockVmaUnderRcuFound(mm, vma, address));
            }
        }
    }

    /// <summary>The same mutation of v6.14's lock_vma_under_rcu().</summary>
    public interface PatchV6_14 : Linux6_14
    {
        /// <summary>lock_vma_under_rcu(), mm/memory.c, v6.14, mutated: never looks at vma->detached.</summary>
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

                // Check since vm_start/vm_end might change before we lock the VMA.
                if (address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
                {
                    return fn.Returns(this.LockVmaUnderRcuInvalEndRead(vma));
                }

                return fn.Returns(this.LockVmaUnderRcuFound(mm, vma, address));
            }
        }
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux6_5, Patch;

    private sealed class On6_14(KernelWorld world) : Booted(world), PatchV6_14;
}
