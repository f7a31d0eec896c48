using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>enum page_walk_lock, include/linux/pagewalk.h (v7.0): the lock a page walk takes or checks.</summary>
public enum PageWalkLock
{
    /// <summary>PGWALK_RDLOCK: mmap_lock held for read.</summary>
    RdLock,

    /// <summary>PGWALK_WRLOCK: mmap_lock held for write; the walk write-locks each VMA.</summary>
    WrLock,

    /// <summary>PGWALK_WRLOCK_VERIFY: mmap_lock held for write and each VMA already write-locked.</summary>
    WrLockVerify,

    /// <summary>PGWALK_VMA_RDLOCK_VERIFY: the VMA read lock held, not mmap_lock.</summary>
    VmaRdLockVerify,
}

/// <summary>
/// struct mm_walk_ops, include/linux/pagewalk.h (v7.0), for what the port's walks use: walk_lock,
/// pmd_entry (given the range under one PMD) and test_walk (whether to walk a VMA: 0 yes, 1 skip
/// it, negative stop). A walk without pmd_entry visits nothing: the only other callbacks the
/// ported walks have (guard_remove_*_entry(), queue_folios_hugetlb()) clear guard markers, which
/// the port does not store, or handle hugetlb VMAs, which it does not have.
/// </summary>
public sealed record MmWalkOps(PageWalkLock WalkLock, Func<ulong, ulong, MmWalk, int>? PmdEntry = null, Func<ulong, ulong, MmWalk, int>? TestWalk = null);

/// <summary>struct mm_walk, include/linux/pagewalk.h (v7.0): the walk's ops, mm, VMA and the caller's private data.</summary>
public sealed record MmWalk(MmWalkOps Ops, MmStruct Mm, VmAreaStruct Vma, object? Private = null);

/// <summary>
/// Generation "7.0", mm/pagewalk.c: walking one VMA's page tables (walk_page_range_vma()), or
/// each VMA's in a range of the mm (walk_page_range()), under the lock its caller names, which
/// the walk checks or takes first. The port's page table is the last level of one PMD, so the
/// walk calls pmd_entry once per VMA's part of the range; hugetlb VMAs, pte_entry, pte_hole and
/// the pre/post-VMA callbacks are not modelled. Read from the stored text of v7.0's mm/pagewalk.c.
/// </summary>
public partial interface Linux7_0
{
    /// <summary>
    /// walk_page_range_vma(), mm/pagewalk.c (v7.0). check_ops_safe() refuses ops that install
    /// PTEs; no walk of the port installs any.
    /// </summary>
    int WalkPageRangeVma(VmAreaStruct vma, ulong start, ulong end, MmWalkOps ops) => this.WalkPageRangeVmaUnsafe(vma, start, end, ops);

    /// <summary>
    /// walk_page_range_vma_unsafe(), mm/pagewalk.c (v7.0): the range must lie in the VMA (read
    /// under the lock the caller holds); then the mm's and the VMA's lock are checked, and the
    /// page tables walked.
    /// </summary>
    int WalkPageRangeVmaUnsafe(VmAreaStruct vma, ulong start, ulong end, MmWalkOps ops)
    {
        using var fn = this.World.Enter("walk_page_range_vma", $"{vma.Name}, {VmAreaStruct.Hex(start)}, {VmAreaStruct.Hex(end)}");
        var walk = new MmWalk(ops, vma.VmMm, vma);
        if (start >= end)
        {
            return fn.Returns(-Errno.EINVAL);
        }

        if (start < vma.VmStart.Plain() || end > vma.VmEnd.Plain())
        {
            return fn.Returns(-Errno.EINVAL);
        }

        this.ProcessMmWalkLock(walk.Mm, ops.WalkLock);
        this.ProcessVmaWalkLock(vma, ops.WalkLock);
        return fn.Returns(this.__WalkPageRange(start, end, walk));
    }

    /// <summary>
    /// walk_page_range(), mm/pagewalk.c (v7.0): check_ops_safe() refuses ops that install PTEs
    /// (no walk of the port installs any); then walk_page_range_mm_unsafe().
    /// </summary>
    int WalkPageRange(MmStruct mm, ulong start, ulong end, MmWalkOps ops, object? @private) => this.WalkPageRangeMmUnsafe(mm, start, end, ops, @private);

    /// <summary>
    /// walk_page_range_mm_unsafe(), mm/pagewalk.c (v7.0): check the mm's lock, then walk each VMA
    /// of [start, end) in address order, taking or checking its lock first (process_vma_walk_lock()),
    /// asking test_walk whether to walk it, and walking its part of the range. The holes between
    /// VMAs go to pte_hole, which no ported walk has.
    /// </summary>
    int WalkPageRangeMmUnsafe(MmStruct mm, ulong start, ulong end, MmWalkOps ops, object? @private)
    {
        using var fn = this.World.Enter("walk_page_range", $"{mm.Name}, {VmAreaStruct.Hex(start)}, {VmAreaStruct.Hex(end)}");
        var err = 0;
        if (start >= end)
        {
            return fn.Returns(-Errno.EINVAL);
        }

        this.ProcessMmWalkLock(mm, ops.WalkLock);

        var vma = mm.MmMt.FindVma(start);
        do
        {
            ulong next;
            if (vma is null)
            {
                next = end; // after the last vma: pte_hole
            }
            else if (start < vma.VmStart.Plain())
            {
                next = Math.Min(end, vma.VmStart.Plain()); // outside vma: pte_hole
            }
            else
            {
                // inside vma
                this.ProcessVmaWalkLock(vma, ops.WalkLock);
                var walk = new MmWalk(ops, mm, vma, @private);
                next = Math.Min(end, vma.VmEnd.Plain());
                vma = mm.MmMt.FindVma(vma.VmEnd.Plain());

                err = this.WalkPageTest(start, next, walk);
                if (err > 0)
                {
                    // positive return values are purely for controlling the pagewalk, so should
                    // never be passed to the callers.
                    err = 0;
                    start = next;
                    continue;
                }

                if (err < 0)
                {
                    break;
                }

                err = this.__WalkPageRange(start, next, walk);
            }

            if (err != 0)
            {
                break;
            }

            start = next;
        }
        while (start < end);

        return fn.Returns(err);
    }

    /// <summary>walk_page_test(), mm/pagewalk.c (v7.0): the ops' test_walk decides; without one, every VMA is walked (the port has no VM_PFNMAP VMA).</summary>
    int WalkPageTest(ulong start, ulong end, MmWalk walk) => walk.Ops.TestWalk?.Invoke(start, end, walk) ?? 0;

    /// <summary>process_mm_walk_lock(), mm/pagewalk.c (v7.0): mmap_lock must be held, for write unless the walk is a reader's.</summary>
    void ProcessMmWalkLock(MmStruct mm, PageWalkLock walkLock)
    {
        if (walkLock == PageWalkLock.RdLock)
        {
            this.MmapAssertLocked(mm);
        }
        else if (walkLock != PageWalkLock.VmaRdLockVerify)
        {
            this.MmapAssertWriteLocked(mm);
        }
    }

    /// <summary>process_vma_walk_lock(), mm/pagewalk.c (v7.0, CONFIG_PER_VMA_LOCK).</summary>
    void ProcessVmaWalkLock(VmAreaStruct vma, PageWalkLock walkLock)
    {
        switch (walkLock)
        {
            case PageWalkLock.WrLock:
                this.VmaStartWrite(vma);
                break;
            case PageWalkLock.WrLockVerify:
                this.VmaAssertWriteLocked(vma);
                break;
            case PageWalkLock.VmaRdLockVerify:
                this.VmaAssertLocked(vma);
                break;
            case PageWalkLock.RdLock:
                // PGWALK_RDLOCK is handled by process_mm_walk_lock.
                break;
        }
    }

    /// <summary>__walk_page_range(), mm/pagewalk.c (v7.0), down to the one PMD the port has: pmd_entry for the range.</summary>
    int __WalkPageRange(ulong start, ulong end, MmWalk walk) => walk.Ops.PmdEntry?.Invoke(start, end, walk) ?? 0;
}
