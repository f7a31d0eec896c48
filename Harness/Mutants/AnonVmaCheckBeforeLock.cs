using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// lock_vma_under_rcu() checks vma->anon_vma before vma_start_read(), as v6.4 shipped
/// (docs/protocol.md 8, B3; found by Jann Horn). mremap(MREMAP_DONTUNMAP) can unlink the anon_vma
/// between the check and the lock; the fault then runs anon_vma_prepare() holding only the VMA
/// lock, and find_mergeable_anon_vma() reads a neighbour that munmap() frees meanwhile.
/// </summary>
public sealed class AnonVmaCheckBeforeLock : Mutant
{
    public override string Name => "anon-vma-check-before-lock";

    public override string Description => "lock_vma_under_rcu() checks vma->anon_vma before vma_start_read() instead of after";

    public override string Origin => "reverts 657b5146955e (mm: lock_vma_under_rcu() must check vma->anon_vma under vma lock; v6.5)";

    public override string Scenario => "fault-vs-mremap-munmap";

    public override string CaughtBy => nameof(SpecConformance);

    public override IReadOnlyList<string> Replaces => ["lock_vma_under_rcu"];

    /// <summary>The generations whose lock_vma_under_rcu() checks anon_vma (v6.14's leaves it to the fault handler, vmf_anon_prepare).</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.4", w => new On6_4(w)), MutantKernel.On("6.5", w => new On6_5(w))];

    /// <summary>lock_vma_under_rcu() as v6.4.0 shipped it.</summary>
    public interface Patch : Linux
    {
        /// <summary>lock_vma_under_rcu(), mm/memory.c, v6.5, before 657b5146955e: the anon_vma check comes before vma_start_read().</summary>
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

                if (vma.AnonVma.Plain() is null)
                {
                    return fn.Returns(this.LockVmaUnderRcuInval());
                }

                if (!this.VmaStartRead(vma))
                {
                    return fn.Returns(this.LockVmaUnderRcuInval());
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

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux6_5, Patch;
}
