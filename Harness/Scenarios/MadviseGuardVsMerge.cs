using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// madvise(MADV_GUARD_INSTALL) on a page of vma1, under vma1's read lock (lock_vma_under_rcu()) or,
/// when that fails, under mmap_read_lock(), while a writer merges vma1 and vma2 and splits vma1
/// again. The guard install sets VM_MAYBE_GUARD with set_bit() without the VMA write lock: the
/// one vm_flags change the protocol allows so. From v7.0 (the VMA-lock path since 6.19).
/// <para>
/// The first reader thread is the guard install; the others are page faults in vma1 and vma2.
/// There is one guard install whatever the number of readers: two race on vma1->vm_flags under
/// LKMM, is_valid_guard_vma()'s plain load against the other's set_bit() (NoDataRace, 487
/// portfolio iterations with two), a race the kernel accepts by design ("all remaining readers
/// may or may not see the flag set, but we don't care", madvise_guard_install()).
/// </para>
/// </summary>
public sealed class MadviseGuardVsMerge : Scenario
{
    public override string Name => "madvise-guard-vs-merge";

    public override string Description => "madvise(MADV_GUARD_INSTALL) on vma1 under its VMA read lock (mmap_read_lock() as the fall-back) sets VM_MAYBE_GUARD atomically, and faults run in vma1 and vma2, while vma_merge(vma1, vma2) and __split_vma write-lock vma1";

    public override bool RunsOn(GenerationInfo generation) => FromV7_0(generation);

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, vma1, vma2) = TwoAdjacentVmas(kernel);
        var writer = MergeThenSplit(kernel, mm, vma1, vma2);
        return Task.WhenAll(GuardInstallAndFaults(kernel, mm, Vma1Start + PageTable.PageSize, readers, i => i % 2 == 1 ? Vma1Start : Vma2Start + PageTable.PageSize).Append(writer));
    }
}
