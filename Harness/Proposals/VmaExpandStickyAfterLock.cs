using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Proposals;

/// <summary>
/// A fix as posted: vma_expand() reads the sticky flags of next only once next is write-locked,
/// as Lorenzo Stoakes's "mm/vma: use new VMA flags for sticky flags logic" ([PATCH v3 05/23],
/// 2026-03-18, linux-mm, for v7.1) orders it while converting the function to vma_flags_t. The
/// patch does not call the move a fix; on v7.0 the earlier read loses a VM_MAYBE_GUARD that a
/// guard install holding next's read lock sets between the read and vma_start_write(next)
/// (madvise-guard-vs-mmap-merge, the kernel's own finding on 7.0). Its scenarios are that race:
/// clean under sc; under lkmm still lost, by a reordering the patch does not touch
/// (exclude-readers-acquire).
/// </summary>
public sealed class VmaExpandStickyAfterLock : Proposal
{
    public override string Name => "vma-expand-sticky-after-lock";

    public override string Description => "vma_expand() gathers the target's sticky flags after vma_start_write(target) and next's after vma_start_write(next), so a guard install under next's read lock cannot slip in between";

    public override string Origin => "the order of Lorenzo Stoakes's [PATCH v3 05/23] mm/vma: use new VMA flags for sticky flags logic (linux-mm, 2026-03-18, for v7.1), back-ported to v7.0's vm_flags_t";

    public override IReadOnlyList<string> Adds => [];

    public override IReadOnlyList<string> Replaces => ["vma_expand"];

    /// <summary>v7.0, the first generation with a flag readers set (VM_MAYBE_GUARD) and with merges in mmap_region().</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("7.0", w => new On7_0(w))];

    public override IReadOnlyList<ProposalScenario> Scenarios { get; } =
    [
        new PatchedScenario(
            "mmap-merge-keeps-guard",
            "madvise-guard-vs-mmap-merge with the v7.1 order in vma_expand(), under sc: a guard install under vma2's read lock while mmap() merges vma1, the gap and vma2",
            expected: null,
            RunRequest.ScMemory,
            MadviseGuardVsMmapMerge.Run),

        // Under LKMM the patch is not enough: vma_start_write(vma2) waits for the guard install's
        // vma_end_read() by reading vm_refcnt relaxed (refcount_read() in __vma_start_exclude_readers()'s
        // rcuwait_wait_event()), which acquires nothing, so the writer's next load of vma2->vm_flags
        // may still return the value from before the set_bit() that vma_refcount_put()'s release
        // published. Readers stored nothing a writer reads before VM_MAYBE_GUARD. exclude-readers-acquire adds the acquire.
        new PatchedScenario(
            "mmap-merge-loses-guard-lkmm",
            "madvise-guard-vs-mmap-merge with the v7.1 order in vma_expand(), under lkmm: vma_start_write(vma2)'s wait for readers does not acquire the guard install's set_bit()",
            expected: nameof(NoLostStickyFlag),
            RunRequest.LkmmMemory,
            MadviseGuardVsMmapMerge.Run),
    ];

    /// <summary>vma_expand() with the sticky flags read under the write locks.</summary>
    public interface Patch : Linux7_0
    {
        /// <summary>
        /// vma_expand(), mm/vma.c, v7.0 with the v7.1 order: the range's sticky flags first, the
        /// target's once vma_start_write(target) has returned, next's once vma_start_write(next)
        /// has (each read excludes the readers that may set VM_MAYBE_GUARD).
        /// </summary>
        int Linux7_0.VmaExpand(VmaMergeStruct vmg)
        {
            var target = vmg.Target!;
            var next = vmg.Next;
            using var fn = this.World.Enter("vma_expand", $"{target.Name}, {VmAreaStruct.Hex(vmg.Start)}-{VmAreaStruct.Hex(vmg.End)}{(next is null ? string.Empty : $", next {next.Name}")}");
            var removeNext = false;
            VmAreaStruct? anonDup = null;
            var ret = 0;
            var stickyFlags = vmg.VmFlags & VmSticky;

            this.MmapAssertWriteLocked(vmg.Mm);
            this.VmaStartWrite(target);

            var targetSticky = target.VmFlags.Plain() & VmSticky;

            if (next is not null && target != next && vmg.End == next.VmEnd.Plain())
            {
                removeNext = true;
            }

            stickyFlags |= targetSticky;

            // If we are removing the next VMA or copying from a VMA (e.g. mremap()'ing), we must propagate anon_vma state.
            if (removeNext)
            {
                ret = this.DupAnonVma(target, next!, ref anonDup);
            }

            if (ret != 0)
            {
                return fn.Returns(ret);
            }

            if (removeNext)
            {
                this.VmaStartWrite(next!);
                vmg.RemoveNext = true;

                var nextSticky = next!.VmFlags.Plain() & VmSticky;
                stickyFlags |= nextSticky;
            }

            this.CommitMerge(vmg);
            this.VmFlagsSet(target, stickyFlags);
            return fn.Returns(0);
        }
    }

    private sealed class On7_0(KernelWorld world) : Booted(world), Patch;
}
