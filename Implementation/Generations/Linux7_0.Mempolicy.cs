using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>
/// The MPOL_MF_* flags of mbind(): include/uapi/linux/mempolicy.h's, and mm/mempolicy.c's
/// internal ones from MPOL_MF_INTERNAL (v7.0).
/// </summary>
[Flags]
public enum MpolMf : ulong
{
    None = 0,

    /// <summary>MPOL_MF_STRICT: verify existing pages in the mapping.</summary>
    Strict = 1 << 0,

    /// <summary>MPOL_MF_MOVE: move pages owned by this process to conform to the policy.</summary>
    Move = 1 << 1,

    /// <summary>MPOL_MF_MOVE_ALL: move every page to conform to the policy.</summary>
    MoveAll = 1 << 2,

    /// <summary>MPOL_MF_DISCONTIG_OK (MPOL_MF_INTERNAL &lt;&lt; 0): skip the checks for contiguous VMAs.</summary>
    DiscontigOk = 1 << 4,

    /// <summary>MPOL_MF_INVERT (MPOL_MF_INTERNAL &lt;&lt; 1): queue the folios not on the node mask.</summary>
    Invert = 1 << 5,

    /// <summary>MPOL_MF_WRLOCK (MPOL_MF_INTERNAL &lt;&lt; 2): write-lock the walked VMAs.</summary>
    WrLock = 1 << 6,

    /// <summary>MPOL_MF_VALID: the flags user space may pass.</summary>
    Valid = Strict | Move | MoveAll,
}

/// <summary>
/// struct queue_pages, mm/mempolicy.c (v7.0): the walk's private data. The port's folios are all
/// order 0, so its "large" (the last large folio seen) is left out.
/// </summary>
public sealed class QueuePages(List<Folio> pagelist, MpolMf flags, ulong nmask, ulong start, ulong end)
{
    public List<Folio> Pagelist { get; } = pagelist;

    public MpolMf Flags { get; } = flags;

    public ulong Nmask { get; } = nmask;

    public ulong Start { get; } = start;

    public ulong End { get; } = end;

    public VmAreaStruct? First { get; set; }

    /// <summary>Folios that could not be isolated at this time.</summary>
    public long NrFailed { get; set; }
}

/// <summary>
/// Generation "7.0", mm/mempolicy.c: mbind() of anonymous memory with MPOL_MF_MOVE. do_mbind()
/// takes mmap_lock for write, scans the range's page tables for the folios to move with
/// queue_pages_range(), which write-locks each VMA it walks (MPOL_MF_WRLOCK, PGWALK_WRLOCK:
/// 49b0638502da), sets the policy VMA by VMA (mbind_range(), splitting a VMA the range ends
/// inside), and migrates the queued folios after mmap_write_unlock(). The port has one node: every
/// folio a fault allocates is on node 0 (faults do not read vm_policy), migrate_pages() is not
/// modelled, and the monitors are told what the walk queued (PagesQueuedForMigration). Task and
/// cpuset policy, interleaving, hugetlb and large folios, lru_cache_disable() and the shared
/// policy of shmem are left out. Read from the stored text of v7.0's mm/mempolicy.c and mm/vma.c.
/// </summary>
public partial interface Linux7_0
{
    /// <summary>
    /// do_mbind(), mm/mempolicy.c (v7.0), for the mbind(2) of a task of <paramref name="mm"/>
    /// (current->mm) with <paramref name="nmask"/> a node mask (bit n: node n).
    /// </summary>
    long DoMbind(MmStruct mm, ulong start, ulong len, MpolMode mode, ulong nmask, MpolMf flags)
    {
        using var fn = this.World.Enter("do_mbind", $"{VmAreaStruct.Hex(start)}, {VmAreaStruct.Hex(len)}, {mode}, 0x{nmask:x}, {flags}");
        if ((flags & ~MpolMf.Valid) != 0)
        {
            return fn.Returns(-Errno.EINVAL);
        }

        // MPOL_MF_MOVE_ALL without CAP_SYS_NICE is -EPERM: the port's tasks are not asked for it.
        if (start % PageTable.PageSize != 0)
        {
            return fn.Returns(-Errno.EINVAL);
        }

        if (mode == MpolMode.Default)
        {
            flags &= ~MpolMf.Strict;
        }

        len = PageAlign(len);
        var end = start + len;
        if (end < start)
        {
            return fn.Returns(-Errno.EINVAL);
        }

        if (end == start)
        {
            return fn.Returns(0);
        }

        var @new = MpolNew(mode, nmask);

        // If we are using the default policy then operation on discontinuous address spaces is okay after all.
        if (@new is null)
        {
            flags |= MpolMf.DiscontigOk;
        }

        // lru_cache_disable() for MPOL_MF_MOVE: the port has no LRU caches.
        this.MmapWriteLock(mm);

        // mpol_set_nodemask(): no cpuset restricts the nodes.

        // Lock the VMAs before scanning for pages to migrate, to ensure we don't miss a concurrently inserted page.
        var pagelist = new List<Folio>();
        long err = 0;
        var nrFailed = this.QueuePagesRange(mm, start, end, nmask, flags | MpolMf.Invert | MpolMf.WrLock, pagelist);
        if (nrFailed < 0)
        {
            err = nrFailed;
            nrFailed = 0;
        }
        else
        {
            // vma_iter_init(&vmi, mm, start); prev = vma_prev(&vmi); for_each_vma_range(vmi, vma, end)
            var prev = mm.MmMt.VmaPrev(start);
            for (var vma = mm.MmMt.FindVma(start); vma is not null && vma.VmStart.Plain() < end; vma = mm.MmMt.FindVma(vma.VmEnd.Plain()))
            {
                err = this.MbindRange(vma, ref prev, start, end, @new);
                if (err != 0)
                {
                    break;
                }
            }
        }

        this.MmapWriteUnlock(mm);

        // migrate_pages(&pagelist, ...): the port has one node and moves nothing (see the type's summary).
        if (nrFailed != 0 && (flags & MpolMf.Strict) != 0)
        {
            err = -Errno.EIO;
        }

        // putback_movable_pages(), mpol_put(), lru_cache_enable(): nothing the port keeps.
        return fn.Returns(err);
    }

    /// <summary>mpol_new(), mm/mempolicy.c (v7.0): NULL for MPOL_DEFAULT, else the policy of the mode and node mask.</summary>
    static Mempolicy? MpolNew(MpolMode mode, ulong nodes) => mode == MpolMode.Default ? null : new Mempolicy(mode, nodes);

    /// <summary>
    /// queue_pages_range(), mm/mempolicy.c (v7.0): walk [start, end) and queue the folios to move;
    /// with MPOL_MF_WRLOCK the walk write-locks each VMA (queue_pages_lock_vma_walk_ops). Returns
    /// the folios that could not be queued, or -EIO, or -EFAULT for a hole.
    /// </summary>
    long QueuePagesRange(MmStruct mm, ulong start, ulong end, ulong nodes, MpolMf flags, List<Folio> pagelist)
    {
        using var fn = this.World.Enter("queue_pages_range", $"{VmAreaStruct.Hex(start)}, {VmAreaStruct.Hex(end)}, {flags}");
        var qp = new QueuePages(pagelist, flags, nodes, start, end);
        var ops = (flags & MpolMf.WrLock) != 0 ? this.QueuePagesLockVmaWalkOps : this.QueuePagesWalkOps;

        long err = this.WalkPageRange(mm, start, end, ops, qp);

        if (qp.First is null)
        {
            err = -Errno.EFAULT; // whole range in hole
        }

        return fn.Returns(err != 0 ? err : qp.NrFailed);
    }

    /// <summary>queue_pages_walk_ops, mm/mempolicy.c (v7.0): mmap_lock held, the VMAs not locked (PGWALK_RDLOCK).</summary>
    MmWalkOps QueuePagesWalkOps => new(PageWalkLock.RdLock, PmdEntry: this.QueueFoliosPteRange, TestWalk: this.QueuePagesTestWalk);

    /// <summary>queue_pages_lock_vma_walk_ops, mm/mempolicy.c (v7.0): mmap_lock held for write, each VMA write-locked (PGWALK_WRLOCK).</summary>
    MmWalkOps QueuePagesLockVmaWalkOps => new(PageWalkLock.WrLock, PmdEntry: this.QueueFoliosPteRange, TestWalk: this.QueuePagesTestWalk);

    /// <summary>
    /// queue_pages_test_walk(), mm/mempolicy.c (v7.0): refuse a hole at the head, middle or tail
    /// of the range (unless MPOL_MF_DISCONTIG_OK), and scan the VMA only when pages are to be
    /// checked or moved. The port's VMAs are all migratable (vma_migratable(): anonymous, no
    /// VM_IO or VM_PFNMAP).
    /// </summary>
    int QueuePagesTestWalk(ulong start, ulong end, MmWalk walk)
    {
        var vma = walk.Vma;
        var qp = (QueuePages)walk.Private!;
        var flags = qp.Flags;

        // range check first
        this.World.VmBugOn(start < vma.VmStart.Plain() || end > vma.VmEnd.Plain(), $"VM_BUG_ON_VMA(!range_in_vma({vma.Name}, {VmAreaStruct.Hex(start)}, {VmAreaStruct.Hex(end)}))");

        if (qp.First is null)
        {
            qp.First = vma;
            if ((flags & MpolMf.DiscontigOk) == 0 && qp.Start < vma.VmStart.Plain())
            {
                return -Errno.EFAULT; // hole at head side of range
            }
        }

        var next = walk.Mm.MmMt.FindVma(vma.VmEnd.Plain());
        if ((flags & MpolMf.DiscontigOk) == 0 && vma.VmEnd.Plain() < qp.End && (next is null || vma.VmEnd.Plain() < next.VmStart.Plain()))
        {
            return -Errno.EFAULT; // hole at middle or tail of range
        }

        // Check page nodes, and queue pages to move, in the current vma. But if no moving, and no
        // strict checking, the scan can be skipped.
        return (flags & (MpolMf.Strict | MpolMf.Move | MpolMf.MoveAll)) != 0 ? 0 : 1;
    }

    /// <summary>
    /// queue_folios_pte_range(), mm/mempolicy.c (v7.0), for the port's page table (no huge PMD,
    /// present PTEs of order-0 anonymous folios): under the page table lock, queue each mapped
    /// folio the policy wants elsewhere, then tell the monitors what the scan queued.
    /// </summary>
    int QueueFoliosPteRange(ulong addr, ulong end, MmWalk walk)
    {
        var vma = walk.Vma;
        var qp = (QueuePages)walk.Private!;
        var flags = qp.Flags;
        var pageTable = walk.Mm.PageTable;
        lock (pageTable.Ptl)
        {
            using var held = this.World.SpinHeld(pageTable.Ptl); // pte_offset_map_lock()
            var queued = new List<string>();
            foreach (var (_, pte) in pageTable.Range(addr, end))
            {
                if (pte.ReadOnce() is not { } ptent)
                {
                    continue; // pte_none()
                }

                var folio = ptent.Folio; // vm_normal_folio()
                if (!QueueFolioRequired(folio, qp))
                {
                    continue;
                }

                if ((flags & (MpolMf.Move | MpolMf.MoveAll)) == 0 || !MigrateFolioAdd(folio, qp.Pagelist, flags))
                {
                    qp.NrFailed++;
                    if (StrictlyUnmovable(flags))
                    {
                        break;
                    }

                    continue;
                }

                queued.Add(folio.Name);
            }

            this.World.Emit(new PagesQueuedForMigration(this.Thread, walk.Mm.Name, vma.Name, addr, end, queued));
        }

        return qp.NrFailed != 0 && StrictlyUnmovable(flags) ? -Errno.EIO : 0;
    }

    /// <summary>strictly_unmovable(), mm/mempolicy.c (v7.0): STRICT without a MOVE flag fails at the first misplaced page.</summary>
    static bool StrictlyUnmovable(MpolMf flags) => (flags & (MpolMf.Strict | MpolMf.Move | MpolMf.MoveAll)) == MpolMf.Strict;

    /// <summary>
    /// queue_folio_required(), mm/mempolicy.c (v7.0): whether the folio's node is in the mask (out
    /// of it, with MPOL_MF_INVERT). folio_nid() is 0 for every folio of the port.
    /// </summary>
    static bool QueueFolioRequired(Folio folio, QueuePages qp)
    {
        const int nid = 0;
        return ((qp.Nmask >> nid) & 1) != 0 == ((qp.Flags & MpolMf.Invert) == 0);
    }

    /// <summary>
    /// migrate_folio_add(), mm/mempolicy.c (v7.0): queue a folio mapped by this process only (any,
    /// with MPOL_MF_MOVE_ALL); folio_isolate_lru() always succeeds in the port, which has no LRU.
    /// A folio mapped elsewhere too is left, and counts as done.
    /// </summary>
    static bool MigrateFolioAdd(Folio folio, List<Folio> foliolist, MpolMf flags)
    {
        if ((flags & MpolMf.MoveAll) != 0 || folio.MapCount == 1)
        {
            foliolist.Add(folio);
        }

        return true;
    }

    /// <summary>
    /// mbind_range(), mm/mempolicy.c (v7.0): split or merge the VMA if required, and apply the new
    /// policy. The port's split keeps <paramref name="vma"/> as the part inside the range, so the
    /// caller's loop goes on from its new end, as for_each_vma_range() goes on after the split.
    /// </summary>
    int MbindRange(VmAreaStruct vma, ref VmAreaStruct? prev, ulong start, ulong end, Mempolicy? newPol)
    {
        using var fn = this.World.Enter("mbind_range", $"{vma.Name}, {VmAreaStruct.Hex(start)}, {VmAreaStruct.Hex(end)}");
        ulong vmstart;
        var vmend = Math.Min(end, vma.VmEnd.Plain());
        if (start > vma.VmStart.Plain())
        {
            prev = vma;
            vmstart = start;
        }
        else
        {
            vmstart = vma.VmStart.Plain();
        }

        if (MpolEqual(vma.VmPolicy.Plain(), newPol))
        {
            prev = vma;
            return fn.Returns(0);
        }

        vma = this.VmaModifyPolicy(prev, vma, vmstart, vmend, newPol);
        prev = vma;
        return fn.Returns(this.VmaReplacePolicy(vma, newPol));
    }

    /// <summary>mpol_equal(), include/linux/mempolicy.h (v7.0): the same mode and nodes, or both NULL.</summary>
    static bool MpolEqual(Mempolicy? a, Mempolicy? b) => a == b;

    /// <summary>
    /// vma_modify_policy() and vma_modify(), mm/vma.c (v7.0): try to merge the range with a
    /// neighbour of the same policy (vma_merge_existing_range()), else split off the parts of the
    /// VMA outside it. The port ports the split of a trailing part (split_vma(vmi, vma, end, 0):
    /// __split_vma() keeping the VMA below); a range a neighbour of the new policy borders, or one
    /// starting inside the VMA, is outside what it models, and stops the run.
    /// </summary>
    VmAreaStruct VmaModifyPolicy(VmAreaStruct? prev, VmAreaStruct vma, ulong start, ulong end, Mempolicy? newPol)
    {
        using var fn = this.World.Enter("vma_modify_policy", $"{vma.Name}, {VmAreaStruct.Hex(start)}, {VmAreaStruct.Hex(end)}");
        if ((prev is not null && prev.VmEnd.Plain() == start && MpolEqual(prev.VmPolicy.Plain(), newPol)) || vma.VmStart.Plain() < start)
        {
            throw new NotSupportedException($"vma_modify_policy({vma.Name}, {VmAreaStruct.Hex(start)}, {VmAreaStruct.Hex(end)}): the port models only the split of a VMA's trailing part, with no merge");
        }

        // Split any trailing portion of the VMA.
        if (vma.VmEnd.Plain() > end)
        {
            this.__SplitVma(vma, end);
        }

        return fn.Returns(vma);
    }

    /// <summary>
    /// vma_replace_policy(), mm/mempolicy.c (v7.0): apply the policy to a single VMA, which the
    /// caller has write-locked (the walk's PGWALK_WRLOCK, or the split); mmap_lock is held for write.
    /// </summary>
    int VmaReplacePolicy(VmAreaStruct vma, Mempolicy? pol)
    {
        using var fn = this.World.Enter("vma_replace_policy", $"{vma.Name}, {pol?.ToString() ?? "NULL"}");
        this.VmaAssertWriteLocked(vma);

        var @new = pol is null ? null : pol with { }; // mpol_dup()

        // vma->vm_ops->set_policy: anonymous VMAs have none.
        vma.VmPolicy.WriteOnce(@new); // protected by mmap_lock; mpol_put(old)
        return fn.Returns(0);
    }
}
