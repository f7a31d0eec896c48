using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// mmap_region() write-locks the new file VMA after taking i_mmap_rwsem, as 33313a747e81 first
/// placed it: i_mmap_rwsem → vm_lock, against the order every other path keeps (PROTOCOL B8;
/// lockdep reported it, and 1c7873e33645 moved vma_start_write() before i_mmap_lock_write()).
/// </summary>
public sealed class MmapRegionLockOrder : Mutant
{
    public override string Name => "mmap-region-lock-order";

    public override string Description => "mmap_region() calls vma_start_write() on the new file VMA while holding i_mmap_rwsem";

    public override string Origin => "reverts 1c7873e33645 (mm: lock newly mapped VMA with corrected ordering; v6.5-rc1)";

    public override string Scenario => "fault-vs-file-mmap";

    public override string CaughtBy => nameof(LockOrder);

    public override IReadOnlyList<string> Replaces => ["vma_link"];

    /// <summary>The rw_semaphore generations.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } =
        [MutantKernel.On("6.4", w => new On6_4(w)), MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w))];

    /// <summary>The new file VMA's lock as 33313a747e81 placed it.</summary>
    public interface Patch : Linux
    {
        /// <summary>vma_link() for a file mapping, mm/mmap.c, before 1c7873e33645: i_mmap_lock_write() first, then vma_start_write().</summary>
        void Linux.VmaLink(VmAreaStruct vma, AddressSpace file, ulong start, ulong end)
        {
            using var fn = this.World.Enter("vma_link", vma.Name);
            using (this.World.Enter("i_mmap_lock_write", file.Name))
            {
                file.IMmapRwsem.DownWrite();
            }

            this.VmaStartWrite(vma);
            this.VmaMarkAttached(vma);
            vma.VmMm.MmMt.Store(vma, start, end);
            using (this.World.Enter("i_mmap_unlock_write", file.Name))
            {
                file.IMmapRwsem.UpWrite();
            }
        }
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux6_5, Patch;

    private sealed class On6_14(KernelWorld world) : Booted(world), Linux6_14, Patch;
}
