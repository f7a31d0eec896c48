using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Proposals;

/// <summary>
/// What-if: vma_end_write(vma), the per-VMA release Matthew Wilcox listed among the names in the
/// seed thread (shared/seed, January 2023). The kernel never had it: a VMA's write lock ends only
/// with the whole section, when vma_end_write_all() advances mm_lock_seq. Here it ends one VMA's
/// mark while mmap_lock stays held for write, so page faults on that VMA may proceed under its
/// lock while the writer goes on with other VMAs.
/// </summary>
public sealed class VmaEndWrite : Proposal
{
    /// <summary>vm_lock_seq of a VMA no section has write-locked: -1 (v6.5), UINT_MAX (v6.14+), the same bits.</summary>
    public const int Unlocked = -1;

    public override string Name => "vma-end-write";

    public override string Description => "vma_end_write(vma): release one VMA's write lock before mmap_write_unlock(), by resetting its vm_lock_seq with readers excluded";

    public override string Origin => "named in the seed thread (Matthew Wilcox, 2023-01-17, shared/seed); never in the kernel, where only vma_end_write_all() ends a VMA write lock";

    public override IReadOnlyList<string> Adds => ["vma_end_write"];

    public override IReadOnlyList<string> Replaces => [];

    /// <summary>An rw_semaphore VMA lock (6.5, 6.14) and the reference count (6.15).</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } =
        [MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w)), MutantKernel.On("6.15", w => new On6_15(w))];

    public override IReadOnlyList<ProposalScenario> Scenarios { get; } = [new EachVmaReleased(), new ChangedAfterRelease()];

    /// <summary>vma_end_write() on a VMA locked by an rw_semaphore.</summary>
    public interface Patch : Linux6_5
    {
        /// <summary>
        /// vma_end_write(), proposal, never in the kernel (v6.5 and v6.14's rw_semaphore VMA lock):
        /// the VMA must be write-locked in this section; vm_lock_seq goes back to the value no
        /// sequence has, under vm_lock held for write, as vma_start_write() set it. Readers that
        /// then take vm_lock see every store the writer made before (up_write() releases).
        /// </summary>
        void VmaEndWrite(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_end_write", vma.Name);
            this.VmaAssertWriteLocked(vma);
            vma.VmLock.DownWrite();
            vma.VmLockSeq.WriteOnce(Unlocked);
            this.World.Emit(new VmaWriteReleased(this.Thread, vma.VmMm.Name, vma.Name));
            vma.VmLock.UpWrite();
        }
    }

    /// <summary>vma_end_write() on a VMA locked by its reference count.</summary>
    public interface Patch6_15 : Linux6_15, Patch
    {
        /// <summary>
        /// vma_end_write(), proposal, never in the kernel (v6.15's reference count): readers are
        /// excluded as __vma_start_write() excludes them, vm_lock_seq is reset, and the exclusion
        /// ends with __vma_exit_locked()'s release, which a reader's acquiring increment pairs with.
        /// </summary>
        void Patch.VmaEndWrite(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_end_write", vma.Name);
            this.VmaAssertWriteLocked(vma);
            var locked = this.__VmaEnterLocked(vma, detaching: false, killable: false);
            vma.VmLockSeq.WriteOnce(Unlocked);
            this.World.Emit(new VmaWriteReleased(this.Thread, vma.VmMm.Name, vma.Name));
            if (locked > 0)
            {
                this.World.VmBugOn(this.__VmaExitLocked(vma), $"WARN_ON_ONCE(detached): {vma.Name} must stay attached");
            }
        }
    }

    /// <summary>
    /// Correct use: one mmap_lock write section changes vma1, then vma2 (as an mprotect over both
    /// would), releasing vma1 as soon as it is done; faults on vma1 may run meanwhile.
    /// </summary>
    public sealed class EachVmaReleased : ProposalScenario
    {
        public override string Name => "end-write-each-vma";

        public override string Description => "faults in vma1 and vma2 while a writer mprotects vma1, vma_end_write(vma1), then mprotects vma2, all under one mmap_write_lock";

        public override string? Expected => null;

        public override Task RunAsync(BootedKernel kernel, int readers)
        {
            var (mm, vma1, vma2) = TwoAdjacentVmas(kernel);
            var linux = Patched<Patch>(kernel);
            var writer = Writer(kernel, "writer", mm, () =>
            {
                linux.MmapWriteLock(mm);
                linux.MprotectFixup(vma1, ReadWrite | VmFlags.Exec);
                linux.VmaEndWrite(vma1);
                linux.MprotectFixup(vma2, ReadWrite | VmFlags.Exec);
                linux.MmapWriteUnlock(mm);
            });
            return Task.WhenAll(Faults(kernel, mm, readers, i => i % 2 == 0 ? Vma1Start : Vma2Start).Append(writer));
        }
    }

    /// <summary>
    /// Misuse: the writer releases vma1 between vm_flags_reset() and the vm_page_prot update that
    /// mprotect_fixup() makes next (vma_set_page_prot(), which asserts nothing), so the second
    /// store lands on a VMA readers may hold.
    /// </summary>
    public sealed class ChangedAfterRelease : ProposalScenario
    {
        public override string Name => "end-write-then-change";

        public override string Description => "faults in vma1 while a writer changes vma1's vm_flags, calls vma_end_write(vma1), then stores its vm_page_prot without locking it again";

        public override string? Expected => nameof(SpecConformance);

        public override Task RunAsync(BootedKernel kernel, int readers)
        {
            var (mm, vma1, _) = TwoAdjacentVmas(kernel);
            var linux = Patched<Patch>(kernel);
            var writer = Writer(kernel, "writer", mm, () =>
            {
                linux.MmapWriteLock(mm);
                linux.VmaStartWrite(vma1);
                linux.VmFlagsReset(vma1, (ulong)(ReadWrite | VmFlags.Exec));
                linux.VmaEndWrite(vma1);
                vma1.VmPageProt.WriteOnce(VmFlagsFormat.PageProt((ulong)(ReadWrite | VmFlags.Exec))); // vma_set_page_prot(vma1)
                linux.MmapWriteUnlock(mm);
            });
            return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(writer));
        }
    }

    private sealed class On6_5(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_14(KernelWorld world) : Booted(world), Linux6_14, Patch;

    private sealed class On6_15(KernelWorld world) : Booted(world), Linux6_15, Patch6_15;
}
