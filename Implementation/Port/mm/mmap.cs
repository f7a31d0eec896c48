using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Implementation.Port;

/// <summary>
/// mm/mmap.c (v6.4; much of it moved to mm/vma.c in v6.11): creating a mapping, growing a stack,
/// unmapping, merging and splitting VMAs, tearing an address space down, and the anon_vma a VMA
/// may share with its neighbour.
/// </summary>
public partial interface Linux
{
    /// <summary>stack_guard_gap, mm/mmap.c: 256 pages kept free below a stack (the default of stack_guard_gap=).</summary>
    public const ulong StackGuardGap = 256 * PageTable.PageSize;

    /// <summary>
    /// mmap_region(), mm/mmap.c, v6.5, for a new mapping at [start, end) of anonymous memory or
    /// of <paramref name="file"/>: the VMA is allocated, write-locked before it becomes visible
    /// (33313a747e81; v6.15's vma_mark_attached() asserts it), inserted, and for a file linked
    /// into the file's i_mmap under i_mmap_rwsem (vma_link()), all under mmap_lock held for write.
    /// After it is visible mmap_region() still sets it up: vma_set_page_prot(). Returns the VMA.
    /// </summary>
    VmAreaStruct MmapRegion(MmStruct mm, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, AddressSpace? file = null)
    {
        using var fn = this.World.Enter("mmap_region", $"{mm.Name}, {VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)}{(file is null ? string.Empty : $", {file.Name}")}");
        this.MmapWriteLock(mm);
        var vma = this.VmAreaAlloc(mm, this.World.NewVmaName(), start, end, flags, anonVma, file);
        if (file is null)
        {
            // Lock the VMA since it is modified after insertion into VMA tree.
            this.VmaStartWrite(vma);
            this.VmaMarkAttached(vma);
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

    /// <summary>
    /// vma_link() for a file mapping, mm/mmap.c, v6.5: the new VMA is write-locked before
    /// i_mmap_rwsem is taken, the usual order vm_lock → i_mmap_rwsem (1c7873e33645), then stored
    /// in the tree and linked into mapping->i_mmap (__vma_link_file; the interval tree itself is
    /// not modelled, its lock is).
    /// </summary>
    void VmaLink(VmAreaStruct vma, AddressSpace file, ulong start, ulong end)
    {
        using var fn = this.World.Enter("vma_link", vma.Name);
        this.VmaStartWrite(vma);
        this.VmaMarkAttached(vma);
        using (this.World.Enter("i_mmap_lock_write", file.Name))
        {
            file.IMmapRwsem.DownWrite();
        }

        vma.VmMm.MmMt.Store(vma, start, end);
        using (this.World.Enter("i_mmap_unlock_write", file.Name))
        {
            file.IMmapRwsem.UpWrite();
        }
    }

    /// <summary>
    /// vma_set_page_prot(), mm/mmap.c, v6.4: recomputes vm_page_prot from vm_flags (and write
    /// notification) and stores it with WRITE_ONCE; it does not take the VMA lock itself.
    /// </summary>
    void VmaSetPageProt(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_set_page_prot", vma.Name);
        vma.VmPageProt.WriteOnce(VmFlagsFormat.PageProt(vma.VmFlags.ReadOnce()));
    }

    /// <summary>
    /// expand_downwards(), mm/mmap.c, v6.5 (v6.4.3 stable): grows a VM_GROWSDOWN VMA down to
    /// <paramref name="address"/>, called by lock_mm_and_find_vma() with mmap_lock held for write.
    /// The VMA is write-locked first (c137381f71ae), because vm_start and vm_pgoff change under it
    /// and page faults holding only its read lock compute page offsets from them. Not modelled:
    /// mmap_min_addr, acct_stack_growth() (rlimits), the anon_vma lock that serialises two
    /// expanders under mmap_read_lock in older kernels (here the caller holds mmap_lock for write).
    /// </summary>
    int ExpandDownwards(VmAreaStruct vma, ulong address)
    {
        using var fn = this.World.Enter("expand_downwards", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
        if ((vma.VmFlags.ReadOnce() & (ulong)VmFlags.GrowsDown) == 0)
        {
            return fn.Returns(-Errno.EFAULT);
        }

        // Enforce stack_guard_gap.
        var prev = vma.VmMm.MmMt.VmaPrev(vma);
        if (prev is not null && (prev.VmFlags.ReadOnce() & (ulong)VmFlags.GrowsDown) == 0 && address - prev.VmEnd.ReadOnce() < StackGuardGap)
        {
            return fn.Returns(-Errno.ENOMEM);
        }

        // We must make sure the anon_vma is allocated (the scenarios' stacks have theirs already).
        if (vma.AnonVma.ReadOnce() is null)
        {
            return fn.Returns(-Errno.ENOMEM);
        }

        // Lock the VMA before expanding to prevent concurrent page faults.
        this.VmaStartWrite(vma);
        var error = 0;
        var start = vma.VmStart.Plain();
        if (address < start)
        {
            var grow = (start - address) / PageTable.PageSize;
            error = -Errno.ENOMEM;
            if (grow <= vma.VmPgoff.Plain())
            {
                vma.VmStart.WriteOnce(address);
                vma.VmPgoff.WriteOnce(vma.VmPgoff.Plain() - grow);
                vma.VmMm.MmMt.Store(vma, address, vma.VmEnd.Plain()); // overwrite the old entry in the tree
                error = 0;
            }
        }

        return fn.Returns(error);
    }

    /// <summary>
    /// exit_mmap(), mm/mmap.c, then the final mmdrop() of mmput(): every VMA is write-locked (as
    /// free_pgtables() does), detached, torn down and freed; then the mm_struct itself goes.
    /// </summary>
    void ExitMmap(MmStruct mm)
    {
        using (var fn = this.World.Enter("exit_mmap", mm.Name))
        {
            this.MmapWriteLock(mm);
            for (var vma = mm.MmMt.FindVma(0); vma is not null; vma = mm.MmMt.FindVma(0))
            {
                this.VmaStartWrite(vma);
                this.ZapPageRangeSingle(mm, vma.VmStart.ReadOnce(), vma.VmEnd.ReadOnce());
                this.VmaMarkDetached(vma, true);
                mm.MmMt.Erase(vma);
                this.VmAreaFree(vma);
            }

            this.MmapWriteUnlock(mm);
        }

        mm.MmDrop();
    }

    /// <summary>
    /// do_vmi_munmap() → do_vmi_align_munmap(), mm/mmap.c, v6.4, for a range that is one whole VMA,
    /// as munmap(2) calls it (downgrade = true): write-lock and detach the VMA, remove it from the
    /// tree, downgrade mmap_lock (releasing every VMA write lock), tear down its page tables under
    /// the read lock, free it after an RCU grace period.
    /// </summary>
    int DoVmiMunmap(MmStruct mm, ulong start)
    {
        using var fn = this.World.Enter("do_vmi_munmap", VmAreaStruct.Hex(start));
        this.MmapWriteLock(mm);
        var vma = mm.MmMt.FindVma(start);
        if (vma is null || vma.VmStart.ReadOnce() > start)
        {
            this.MmapWriteUnlock(mm);
            return fn.Returns(0);
        }

        this.VmaStartWrite(vma);
        this.VmaMarkDetached(vma, true);
        mm.MmMt.Erase(vma);
        this.MmapWriteDowngrade(mm);
        this.UnmapRegion(mm, vma);
        this.VmAreaFree(vma);
        this.MmapReadUnlock(mm);
        return fn.Returns(0);
    }

    /// <summary>unmap_region(), mm/mmap.c, v6.4: zap the VMA's page-table entries.</summary>
    void UnmapRegion(MmStruct mm, VmAreaStruct vma)
    {
        using var fn = this.World.Enter("unmap_region", vma.Name);
        this.ZapPageRangeSingle(mm, vma.VmStart.ReadOnce(), vma.VmEnd.ReadOnce());
    }

    /// <summary>
    /// vma_merge(), mm/mmap.c, v6.4, the case where <paramref name="next"/> is merged into
    /// <paramref name="prev"/> (prev expands over next, next is removed). Caller holds mmap_lock
    /// for write. vma_prepare() write-locks both; vma_complete() detaches and frees next.
    /// </summary>
    void VmaMerge(VmAreaStruct prev, VmAreaStruct next)
    {
        using var fn = this.World.Enter("vma_merge", $"{prev.Name}, {next.Name}");
        var mm = prev.VmMm;

        // vma_prepare(): every VMA that changes or goes away is write-locked first.
        this.VmaStartWrite(prev);
        this.VmaStartWrite(next);

        // vma_expand() write-locks prev once more: idempotent within one mmap-write section.
        this.VmaStartWrite(prev);
        var end = next.VmEnd.ReadOnce();
        prev.VmEnd.WriteOnce(end);
        mm.MmMt.Erase(next);
        mm.MmMt.Store(prev, prev.VmStart.ReadOnce(), end);

        // vma_complete(): the removed VMA is detached and freed.
        this.VmaMarkDetached(next, true);
        this.VmAreaFree(next);
    }

    /// <summary>
    /// __split_vma(vmi, vma, addr, new_below = 0), mm/mmap.c, v6.4: a new VMA takes [addr, vm_end);
    /// the old one shrinks. The new VMA is complete before it is inserted, so it is not locked.
    /// Caller holds mmap_lock for write. Returns the new VMA.
    /// </summary>
    VmAreaStruct __SplitVma(VmAreaStruct vma, ulong address)
    {
        using var fn = this.World.Enter("__split_vma", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
        var mm = vma.VmMm;

        // vm_area_dup(): a private copy, invisible to faults until vma_complete() stores it.
        var end = vma.VmEnd.ReadOnce();
        var created = this.VmAreaAlloc(mm, this.World.NewVmaName(), address, end, (VmFlags)vma.VmFlags.ReadOnce(), vma.AnonVma.ReadOnce());
        created.AnonVmaChain = vma.AnonVmaChain; // anon_vma_clone()

        // vma_prepare(): the VMA that shrinks is write-locked.
        this.VmaStartWrite(vma);
        vma.VmEnd.WriteOnce(address);

        // vma_complete(): store the shrunk range and the new VMA.
        mm.MmMt.Store(vma, vma.VmStart.ReadOnce(), address);
        this.VmaIterStoreNew(created, address, end);
        return fn.Returns(created);
    }

    /// <summary>
    /// find_mergeable_anon_vma(), mm/mmap.c, v6.4: the anon_vma of the next VMA, else of the
    /// previous one, if that VMA is adjacent and compatible (reusable_anon_vma). It reads the
    /// neighbours' fields without locking them.
    /// </summary>
    AnonVma? FindMergeableAnonVma(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("find_mergeable_anon_vma", vma.Name);
        var next = vma.VmMm.MmMt.MasWalk(vma.VmEnd.Plain());
        if (next is not null && ReusableAnonVma(next, vma, next) is { } fromNext)
        {
            return fn.Returns<AnonVma?>(fromNext);
        }

        var prev = vma.VmMm.MmMt.VmaPrev(vma);
        return fn.Returns(prev is null ? null : ReusableAnonVma(prev, prev, vma));
    }

    /// <summary>
    /// reusable_anon_vma() + anon_vma_compatible(), mm/mmap.c, v6.4: <paramref name="old"/>'s
    /// anon_vma when <paramref name="a"/> ends where <paramref name="b"/> starts, their flags
    /// agree (but for access rights) and their page offsets line up. The kernel also wants
    /// <paramref name="old"/>'s anon_vma_chain to be singular; the port leaves that test out (every
    /// neighbour a fault meets in the scenarios is linked to its one anon_vma).
    /// </summary>
    protected static AnonVma? ReusableAnonVma(VmAreaStruct old, VmAreaStruct a, VmAreaStruct b)
    {
        const ulong AccessFlags = (ulong)(VmFlags.Read | VmFlags.Write | VmFlags.Exec);
        var compatible = a.VmEnd.Plain() == b.VmStart.Plain()
            && a.VmFile == b.VmFile
            && ((a.VmFlags.Plain() ^ b.VmFlags.Plain()) & ~AccessFlags) == 0
            && b.VmPgoff.Plain() == a.VmPgoff.Plain() + ((b.VmStart.Plain() - a.VmStart.Plain()) / PageTable.PageSize);
        return compatible ? old.AnonVma.ReadOnce() : null;
    }
}
