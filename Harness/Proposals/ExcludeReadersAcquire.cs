using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Proposals;

/// <summary>
/// What-if, on top of vma-expand-sticky-after-lock (the v7.1 order in vma_expand()): the VMA write
/// lock acquires what its readers stored. __vma_start_exclude_readers() waits for the readers to
/// leave by reading vm_refcnt with refcount_read(), a relaxed load; vma_refcount_put() drops each
/// reader's reference with a release, which nothing on the writer's side pairs with. That was
/// enough while readers only loaded from the VMA (the writer's stores wait on the control
/// dependency of its wait loop); VM_MAYBE_GUARD is a store by a reader that writers then load.
/// An smp_acquire__after_ctrl_dep() after the wait (the acquire refcount_dec_and_test() gives the
/// last put) orders the writer's later loads after every store the departed readers made.
/// </summary>
public sealed class ExcludeReadersAcquire : Proposal
{
    public override string Name => "exclude-readers-acquire";

    public override string Description => "__vma_start_exclude_readers() issues smp_acquire__after_ctrl_dep() once its wait for readers ends, so the VMA write lock acquires what the readers stored (VM_MAYBE_GUARD); with vma_expand() in the v7.1 order";

    public override string Origin => "a what-if: the v7.1 order of vma_expand() ([PATCH v3 05/23] mm/vma: use new VMA flags for sticky flags logic, 2026-03-18) plus an acquire the v7.0 writer's wait for readers does not have";

    public override IReadOnlyList<string> Adds => [];

    public override IReadOnlyList<string> Replaces => ["vma_expand", "__vma_start_exclude_readers"];

    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("7.0", w => new On7_0(w))];

    public override IReadOnlyList<ProposalScenario> Scenarios { get; } =
    [
        new PatchedScenario(
            "mmap-merge-keeps-guard-acquire",
            "madvise-guard-vs-mmap-merge with the v7.1 order in vma_expand() and an acquire after the writer's wait for readers, under lkmm",
            expected: null,
            RunRequest.LkmmMemory,
            MadviseGuardVsMmapMerge.Run),
        new PatchedScenario(
            "mseal-keeps-guard-acquire",
            "madvise-guard-vs-mseal with an acquire after the writer's wait for readers, under lkmm: vm_flags_set()'s read of vm_flags after vma_start_write() sees the guard install's set_bit()",
            expected: null,
            RunRequest.LkmmMemory,
            MadviseGuardVsMseal.Run),
    ];

    /// <summary>vma_expand() in the v7.1 order and __vma_start_exclude_readers() with an acquire after its wait.</summary>
    public interface Patch : VmaExpandStickyAfterLock.Patch
    {
        /// <summary>
        /// __vma_start_exclude_readers(), mm/mmap_lock.c, v7.0 with an acquire: as v7.0, and once
        /// rcuwait_wait_event() has seen the readers gone, smp_acquire__after_ctrl_dep() (the
        /// control dependency on refcount_read() plus smp_rmb()), pairing with the release of each
        /// reader's vma_refcount_put().
        /// </summary>
        int Linux7_0.__VmaStartExcludeReaders(VmaExcludeReadersState ves)
        {
            var vma = ves.Vma;
            using var fn = this.World.Enter("__vma_start_exclude_readers", $"{vma.Name}{(ves.Detaching ? ", detaching" : "")}");
            var tgtRefcnt = GetTargetRefcnt(ves);
            this.MmapAssertWriteLocked(vma.VmMm);

            // Only vma_mark_attached() raises a detached VMA's count, and mmap_lock keeps it away.
            if (!vma.VmRefcnt.AddNotZero(VmAreaStruct.VmaLockOffset))
            {
                ves.Detached = true;
                return fn.Returns(0);
            }

            var drained = Rcuwait.WaitEvent(
                vma.VmMm.VmaWriterWait,
                () => vma.VmRefcnt.RefcountRead() == tgtRefcnt,
                ves.State == TaskState.Killable ? () => this.World.Chance($"fatal signal for {this.Thread} while it waits for the readers of {vma.Name}", 4) : null);
            if (!drained)
            {
                this.__VmaEndExcludeReaders(ves);
                return fn.Returns(-Errno.EINTR);
            }

            // smp_acquire__after_ctrl_dep() (smp_rmb() after the loop's control dependency): what the readers stored before their release is now visible.
            this.World.Barrier(MemoryBarrier.Rmb);
            ves.Exclusive = true;
            return fn.Returns(0);
        }
    }

    private sealed class On7_0(KernelWorld world) : Booted(world), Patch;
}
