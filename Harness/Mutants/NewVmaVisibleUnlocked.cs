using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// mmap_region() without the vma_start_write() of 33313a747e81 (docs/protocol.md 8, B7): the new VMA
/// is visible in the tree before it is write-locked, and mmap_region() goes on setting it up
/// (vma_set_page_prot()) while a page fault may already hold it. In 6.4 and 6.5 a fault holds a
/// new anonymous VMA only between vma_start_read() and the anon_vma check that makes
/// lock_vma_under_rcu() give it up (the fix's message calls the race latent); from 6.7 faults
/// proceed on such VMAs.
/// </summary>
public sealed class NewVmaVisibleUnlocked : Mutant
{
    public override string Name => "new-vma-visible-unlocked";

    public override string Description => "mmap_region() inserts the new VMA without vma_start_write() and then changes its vm_page_prot";

    public override string Origin => "reverts 33313a747e81 (mm: lock newly mapped VMA which can be modified after it becomes visible; v6.5-rc1, v6.4.3)";

    public override string Scenario => "fault-vs-mmap";

    public override string CaughtBy => nameof(SpecConformance);

    public override IReadOnlyList<string> Replaces => ["mmap_region"];

    /// <summary>The rw_semaphore generations.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } =
        [MutantKernel.On("6.4", w => new On6_4(w)), MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w))];

    /// <summary>mmap_region() before 33313a747e81.</summary>
    public interface Patch : Linux
    {
        /// <summary>mmap_region(), mm/mmap.c, v6.4.0, before 33313a747e81: the new anonymous VMA is published unlocked.</summary>
        VmAreaStruct Linux.MmapRegion(MmStruct mm, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, AddressSpace? file)
        {
            using var fn = this.World.Enter("mmap_region", $"{mm.Name}, {VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)}{(file is null ? string.Empty : $", {file.Name}")}");
            this.MmapWriteLock(mm);
            var vma = this.VmAreaAlloc(mm, this.World.NewVmaName(), start, end, flags, anonVma, file);
            if (file is null)
            {
                mm.MmMt.Store(vma, start, end);
            }
            else
            {
                this.VmaLink(vma, file, start, end);
            }

            this.VmaSetPageProt(vma);
            this.MmapWriteUnlock(mm);
            return fn.Returns(vma);
        }
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux6_5, Patch;

    private sealed class On6_14(KernelWorld world) : Booted(world), Linux6_14, Patch;
}
