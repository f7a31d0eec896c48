using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Proposals;

/// <summary>
/// What-if: __split_vma() write-locks the VMA before it copies it. v7.0 copies first
/// (vm_area_dup(): flags included) and write-locks after, so a guard install holding the VMA's
/// read lock can set VM_MAYBE_GUARD and install its markers in between, in the part the new VMA
/// takes, which then maps them without the flag (madvise-guard-vs-split, the kernel's own finding
/// on 7.0). Locking first makes the copy see every bit a reader set. Built on
/// exclude-readers-acquire, whose acquire the copy's read of vm_flags needs under LKMM.
/// </summary>
public sealed class SplitLocksBeforeDup : Proposal
{
    public override string Name => "split-locks-before-dup";

    public override string Description => "__split_vma() calls vma_start_write(vma) before vm_area_dup(vma), so the new VMA copies the flags a reader set under the read lock (VM_MAYBE_GUARD); on exclude-readers-acquire";

    public override string Origin => "a what-if: no posted patch; v7.0's __split_vma() copies the VMA before write-locking it";

    public override IReadOnlyList<string> Adds => [];

    public override IReadOnlyList<string> Replaces => ["__split_vma", "vma_expand", "__vma_start_exclude_readers"];

    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("7.0", w => new On7_0(w))];

    public override IReadOnlyList<ProposalScenario> Scenarios { get; } =
    [
        new PatchedScenario(
            "split-keeps-guard",
            "madvise-guard-vs-split with __split_vma() write-locking vma1 before copying it, under lkmm: a guard install on vma1's upper page while the split gives that page to a new VMA",
            expected: null,
            RunRequest.LkmmMemory,
            MadviseGuardVsSplit.Run),
    ];

    /// <summary>__split_vma() locking first, over exclude-readers-acquire.</summary>
    public interface Patch : ExcludeReadersAcquire.Patch
    {
        /// <summary>
        /// __split_vma(vmi, vma, addr, new_below = 0), the port's body (mm/mmap.c, v6.4; mm/vma.c
        /// from v6.11, the same order in v7.0) with the what-if: vma_start_write(vma) first, then
        /// vm_area_dup(), so the copy is taken with readers excluded.
        /// </summary>
        VmAreaStruct Linux.__SplitVma(VmAreaStruct vma, ulong address)
        {
            using var fn = this.World.Enter("__split_vma", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
            var mm = vma.VmMm;

            // The VMA that shrinks is write-locked before it is copied: no reader changes it from here.
            this.VmaStartWrite(vma);

            // vm_area_dup(): a private copy, invisible to faults until vma_complete() stores it.
            var end = vma.VmEnd.ReadOnce();
            var created = this.VmAreaAlloc(mm, this.World.NewVmaName(), address, end, (VmFlags)vma.VmFlags.ReadOnce(), vma.AnonVma.ReadOnce());
            created.AnonVmaChain = vma.AnonVmaChain; // anon_vma_clone()

            vma.VmEnd.WriteOnce(address);

            // vma_complete(): store the shrunk range and the new VMA.
            mm.MmMt.Store(vma, vma.VmStart.ReadOnce(), address);
            this.VmaIterStoreNew(created, address, end);
            return fn.Returns(created);
        }
    }

    private sealed class On7_0(KernelWorld world) : Booted(world), Patch;
}
