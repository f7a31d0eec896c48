using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.VmaLock;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>madvise() behaviours the scenarios use (include/uapi/asm-generic/mman-common.h).</summary>
public enum MadviseBehavior
{
    /// <summary>MADV_DONTNEED: zap the pages; needs mmap_lock only for read.</summary>
    DontNeed = 4,

    /// <summary>MADV_DONTFORK: set VM_DONTCOPY on the VMA; needs mmap_lock for write.</summary>
    DontFork = 10,
}

/// <summary>
/// The writers: address-space changes that hold mmap_lock for write and write-lock every VMA they
/// change (mm/mprotect.c, mm/madvise.c, mm/mmap.c, v6.4). Each method is one kernel function; the
/// protected virtual ones are steps a mutant may override.
/// </summary>
public class MmOperations(KernelWorld world, VmaLockGeneration locking)
{
    private readonly Rmap rmap = new(world);

    protected KernelWorld World => world;

    protected VmaLockGeneration Locking => locking;

    /// <summary>
    /// do_mprotect_pkey(), mm/mprotect.c, v6.4, for a range that is one whole VMA. With
    /// <paramref name="killable"/> the VMA is write-locked with vma_start_write_killable() (v6.19),
    /// and a fatal signal during the wait ends the call with -EINTR.
    /// </summary>
    public int DoMprotectPkey(MmStruct mm, ulong start, VmFlags newFlags, bool killable = false)
    {
        using var fn = world.Enter("do_mprotect_pkey", $"{VmAreaStruct.Hex(start)}, {VmFlagsFormat.Describe((ulong)newFlags)}");
        locking.MmapWriteLock(mm);
        var vma = mm.MmMt.FindVma(start);
        var error = vma is null || vma.VmStart.ReadOnce() > start ? -Errno.ENOMEM : 0;
        if (error == 0)
        {
            error = this.MprotectFixup(vma!, newFlags, killable);
        }

        locking.MmapWriteUnlock(mm);
        return fn.Returns(error);
    }

    /// <summary>mprotect_fixup(), mm/mprotect.c, v6.4: vm_flags and vm_page_prot change under the VMA write lock.</summary>
    public int MprotectFixup(VmAreaStruct vma, VmFlags newFlags, bool killable = false)
    {
        using var fn = world.Enter("mprotect_fixup", vma.Name);
        if (killable)
        {
            var error = locking.VmaStartWriteKillable(vma);
            if (error != 0)
            {
                return fn.Returns(error);
            }
        }
        else
        {
            locking.VmaStartWrite(vma);
        }

        this.VmFlagsReset(vma, (ulong)newFlags);
        return fn.Returns(0);
    }

    /// <summary>
    /// mmap_region(), mm/mmap.c (v6.5), for a new mapping at [start, end) of anonymous memory or
    /// of <paramref name="file"/>: the VMA is allocated, write-locked before it becomes visible
    /// (33313a747e81; v6.15's vma_mark_attached asserts it), inserted, and for a file linked into
    /// the file's i_mmap under i_mmap_rwsem, all under mmap_lock held for write. After it is
    /// visible mmap_region() still sets it up: vma_set_page_prot(). Returns the VMA.
    /// </summary>
    public VmAreaStruct MmapRegion(MmStruct mm, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, AddressSpace? file = null)
    {
        using var fn = world.Enter("mmap_region", $"{mm.Name}, {VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)}{(file is null ? string.Empty : $", {file.Name}")}");
        locking.MmapWriteLock(mm);
        var vma = locking.VmAreaAlloc(mm, world.NewName("vma"), start, end, flags, anonVma, file);
        if (file is null)
        {
            if (this.MmapRegionLocksNewVma)
            {
                this.WriteLockNewVma(vma);
                mm.MmMt.Store(vma, start, end);
            }
            else
            {
                this.InsertNewVma(vma, start, end);
            }
        }
        else
        {
            this.LinkFileVma(vma, file, start, end);
        }

        this.VmaSetPageProt(vma);
        locking.MmapWriteUnlock(mm);
        return fn.Returns(vma);
    }

    /// <summary>Whether mmap_region() write-locks the new VMA before it becomes visible (33313a747e81).</summary>
    protected virtual bool MmapRegionLocksNewVma => true;

    /// <summary>
    /// vma_set_page_prot(), mm/mmap.c, v6.4: recomputes vm_page_prot from vm_flags (and write
    /// notification) and stores it with WRITE_ONCE; it does not take the VMA lock itself.
    /// </summary>
    private void VmaSetPageProt(VmAreaStruct vma)
    {
        using var fn = world.Enter("vma_set_page_prot", vma.Name);
        vma.VmPageProt.WriteOnce(VmFlagsFormat.PageProt(vma.VmFlags.ReadOnce()));
    }

    /// <summary>
    /// vma_link() for a file mapping (mm/mmap.c, v6.5): the new VMA is write-locked before
    /// i_mmap_rwsem is taken, the usual order vm_lock → i_mmap_rwsem (1c7873e33645), then stored
    /// in the tree and linked into mapping->i_mmap (__vma_link_file; the interval tree itself is
    /// not modelled, its lock is).
    /// </summary>
    private void LinkFileVma(VmAreaStruct vma, AddressSpace file, ulong start, ulong end)
    {
        using var fn = world.Enter("vma_link", vma.Name);
        if (this.MmapRegionLocksNewVma && this.LocksNewVmaBeforeIMmap)
        {
            this.WriteLockNewVma(vma);
        }

        using (world.Enter("i_mmap_lock_write", file.Name))
        {
            file.IMmapRwsem.DownWrite();
        }

        if (this.MmapRegionLocksNewVma && !this.LocksNewVmaBeforeIMmap)
        {
            this.WriteLockNewVma(vma);
        }

        vma.VmMm.MmMt.Store(vma, start, end);
        using (world.Enter("i_mmap_unlock_write", file.Name))
        {
            file.IMmapRwsem.UpWrite();
        }
    }

    /// <summary>Whether mmap_region() write-locks a new file VMA before taking i_mmap_rwsem (1c7873e33645).</summary>
    protected virtual bool LocksNewVmaBeforeIMmap => true;

    /// <summary>vma_start_write() of a VMA not yet visible (and, from v6.15, vma_mark_attached()).</summary>
    private void WriteLockNewVma(VmAreaStruct vma)
    {
        locking.VmaStartWrite(vma);
        if (locking.LocksNewVmaBeforeInsert)
        {
            locking.VmaMarkAttached(vma);
        }
    }

    /// <summary>stack_guard_gap, mm/mmap.c: 256 pages kept free below a stack (the default of stack_guard_gap=).</summary>
    public const ulong StackGuardGap = 256 * PageTable.PageSize;

    /// <summary>
    /// expand_downwards(), mm/mmap.c, v6.5 (v6.4.3 stable): grows a VM_GROWSDOWN VMA down to
    /// <paramref name="address"/>, called by lock_mm_and_find_vma() with mmap_lock held for write.
    /// The VMA is write-locked first (c137381f71ae), because vm_start and vm_pgoff change under it
    /// and page faults holding only its read lock compute page offsets from them. Not modelled:
    /// mmap_min_addr, acct_stack_growth() (rlimits), the anon_vma lock that serialises two
    /// expanders under mmap_read_lock in older kernels (here the caller holds mmap_lock for write).
    /// </summary>
    public int ExpandDownwards(VmAreaStruct vma, ulong address)
    {
        using var fn = world.Enter("expand_downwards", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
        if ((vma.VmFlags.ReadOnce() & (ulong)VmFlags.GrowsDown) == 0)
        {
            return fn.Returns(-Errno.EFAULT);
        }

        // Enforce stack_guard_gap below the stack.
        var prev = vma.VmMm.MmMt.VmaPrev(vma);
        if (prev is not null && (prev.VmFlags.ReadOnce() & (ulong)VmFlags.GrowsDown) == 0 && address - prev.VmEnd.ReadOnce() < StackGuardGap)
        {
            return fn.Returns(-Errno.ENOMEM);
        }

        // anon_vma_prepare(): the scenarios' stacks have their anon_vma already.
        if (vma.AnonVma.ReadOnce() is null)
        {
            return fn.Returns(-Errno.ENOMEM);
        }

        if (this.ExpandLocksVma)
        {
            locking.VmaStartWrite(vma); // lock the VMA before expanding to prevent concurrent page faults
        }

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

    /// <summary>Whether expand_downwards() write-locks the VMA before changing it (c137381f71ae).</summary>
    protected virtual bool ExpandLocksVma => true;

    /// <summary>
    /// exit_mmap(), mm/mmap.c, then the final mmdrop() of mmput(): every VMA is write-locked (as
    /// free_pgtables() does), detached, torn down and freed; then the mm_struct itself goes.
    /// </summary>
    public void ExitMmap(MmStruct mm)
    {
        using (var fn = world.Enter("exit_mmap", mm.Name))
        {
            locking.MmapWriteLock(mm);
            for (var vma = mm.MmMt.FindVma(0); vma is not null; vma = mm.MmMt.FindVma(0))
            {
                locking.VmaStartWrite(vma);
                this.ZapPageRange(mm, vma.VmStart.ReadOnce(), vma.VmEnd.ReadOnce());
                locking.VmaMarkDetached(vma, true);
                mm.MmMt.Erase(vma);
                locking.VmAreaFree(vma);
            }

            locking.MmapWriteUnlock(mm);
        }

        mm.MmDrop();
    }

    /// <summary>
    /// mremap(old, len, len, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, new) of one whole
    /// VMA: do_mremap() → mremap_to() → move_vma(), mm/mremap.c, v6.4. Under mmap_lock held for
    /// write the VMA is write-locked, copied to a new VMA at <paramref name="newAddr"/> that shares
    /// its anon_vma and keeps its vm_pgoff (copy_vma), its page table entries are moved there
    /// (move_page_tables, then a TLB flush), and, for MREMAP_DONTUNMAP, the old VMA stays mapped
    /// but empty and leaves its anon_vma (unlink_anon_vmas): its anon_vma becomes NULL. Not
    /// modelled: the VM_LOCKED flags DONTUNMAP clears, accounting. Returns 0 or a negative errno.
    /// </summary>
    public int MremapDontUnmap(MmStruct mm, ulong oldAddr, ulong newAddr)
    {
        using var fn = world.Enter("mremap", $"{VmAreaStruct.Hex(oldAddr)}, MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP, {VmAreaStruct.Hex(newAddr)}");
        locking.MmapWriteLock(mm);
        var vma = mm.MmMt.FindVma(oldAddr);
        if (vma is null || vma.VmStart.ReadOnce() != oldAddr)
        {
            locking.MmapWriteUnlock(mm);
            return fn.Returns(-Errno.EFAULT);
        }

        using (world.Enter("move_vma", vma.Name))
        {
            locking.VmaStartWrite(vma); // no page fault may run on the VMA while its pages move away

            // copy_vma(): vm_area_dup() + anon_vma_clone() + vma_link().
            var length = vma.VmEnd.ReadOnce() - oldAddr;
            var newVma = locking.VmAreaAlloc(mm, world.NewName("vma"), newAddr, newAddr + length, (VmFlags)vma.VmFlags.ReadOnce(), vma.AnonVma.ReadOnce());
            newVma.VmPgoff.WriteOnce(vma.VmPgoff.ReadOnce());
            newVma.AnonVmaChain = vma.AnonVmaChain; // anon_vma_clone()
            this.InsertNewVma(newVma, newAddr, newAddr + length);
            this.MovePageTables(vma, oldAddr, newVma, newAddr, length);
            this.rmap.UnlinkAnonVmas(vma);
        }

        locking.MmapWriteUnlock(mm);
        return fn.Returns(0);
    }

    /// <summary>
    /// move_page_tables() → move_ptes(), mm/mremap.c, v6.4: every present PTE of the old range
    /// moves to the new one under the page table lock, then the old range's TLB entries are flushed.
    /// </summary>
    private void MovePageTables(VmAreaStruct vma, ulong oldAddr, VmAreaStruct newVma, ulong newAddr, ulong length)
    {
        using var fn = world.Enter("move_page_tables", $"{vma.Name}, {newVma.Name}");
        var table = vma.VmMm.PageTable;
        lock (table.Ptl)
        {
            using var held = world.SpinHeld(table.Ptl);
            foreach (var (address, pte) in table.Range(oldAddr, oldAddr + length))
            {
                if (pte.ReadOnce() is { } present)
                {
                    pte.WriteOnce(null); // ptep_get_and_clear()
                    var moved = newAddr + (address - oldAddr);
                    this.rmap.MapAnonPage(newVma, moved, table.Pte(moved), present);
                }
            }
        }

        vma.VmMm.FlushTlb("flush_tlb_range");
    }

    /// <summary>
    /// dup_mmap(), kernel/fork.c, v6.5 (v6.4.3 stable), as fork() calls it for a child named
    /// <paramref name="child"/>: with the parent's mmap_lock held for write, every parent VMA is
    /// write-locked (fb49c455323f), duplicated into the child with its anon_vma (anon_vma_fork),
    /// and its page table copied, write-protecting private writable pages in both processes for
    /// copy-on-write (copy_page_range); the parent's TLB is flushed only once, at the end. The
    /// child's mmap_lock is taken nested inside the parent's (no other thread can reach the child
    /// yet). Returns the child's mm.
    /// </summary>
    public MmStruct DupMmap(MmStruct oldmm, string child)
    {
        using var fn = world.Enter("dup_mmap", $"{oldmm.Name} -> {child}");
        var mm = new MmStruct(world, child);
        locking.MmapWriteLock(oldmm);
        locking.MmapWriteLock(mm); // mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING)
        for (var mpnt = oldmm.MmMt.FindVma(0); mpnt is not null; mpnt = oldmm.MmMt.FindVma(mpnt.VmEnd.ReadOnce()))
        {
            if (this.ForkLocksParentVmas)
            {
                locking.VmaStartWrite(mpnt); // no page fault may change mpnt or its page table while they are copied
            }

            var flags = (VmFlags)mpnt.VmFlags.ReadOnce();
            if ((flags & VmFlags.DontCopy) != 0)
            {
                continue;
            }

            // vm_area_dup() + anon_vma_fork(): unless the parent's VMA has no anon_vma (then the
            // child's has none either), the child's VMA is linked to every anon_vma the parent's is
            // (anon_vma_clone) and gets one of its own, a child of the parent's.
            var start = mpnt.VmStart.ReadOnce();
            var end = mpnt.VmEnd.ReadOnce();
            var parentAnonVma = mpnt.AnonVma.ReadOnce();
            var anonVma = parentAnonVma is null ? null : new AnonVma(world, world.NewName("anon_vma"));
            var tmp = locking.VmAreaAlloc(mm, world.NewName("vma"), start, end, flags, anonVma);
            if (anonVma is not null)
            {
                tmp.AnonVmaChain = [.. mpnt.AnonVmaChain, anonVma];
            }

            this.InsertNewVma(tmp, start, end);
            this.CopyPageRange(tmp, mpnt);
        }

        locking.MmapWriteUnlock(mm);
        oldmm.FlushTlb("flush_tlb_mm");
        locking.MmapWriteUnlock(oldmm);
        return fn.Returns(mm);
    }

    /// <summary>Whether dup_mmap() write-locks each parent VMA before copying it (fb49c455323f).</summary>
    protected virtual bool ForkLocksParentVmas => true;

    /// <summary>
    /// copy_page_range() → copy_pte_range() → copy_present_pte(), mm/memory.c, v6.4: every present
    /// PTE of the parent's VMA is copied into the child under the page table lock; in a private
    /// writable (COW) mapping both copies are write-protected (ptep_set_wrprotect, without a TLB
    /// flush: dup_mmap flushes once at the end), and the page is now mapped twice. A VMA without
    /// an anon_vma (looked at again here) has no anonymous pages to copy: the child faults them in.
    /// </summary>
    private void CopyPageRange(VmAreaStruct dst, VmAreaStruct src)
    {
        using var fn = world.Enter("copy_page_range", $"{dst.Name}, {src.Name}");
        if (src.AnonVma.ReadOnce() is null)
        {
            return;
        }

        var flags = (VmFlags)src.VmFlags.ReadOnce();
        var cow = (flags & (VmFlags.Shared | VmFlags.MayWrite)) == VmFlags.MayWrite; // is_cow_mapping()
        var parent = src.VmMm.PageTable;
        lock (parent.Ptl)
        {
            using var held = world.SpinHeld(parent.Ptl);
            foreach (var (address, pte) in parent.Range(src.VmStart.Plain(), src.VmEnd.Plain()))
            {
                if (pte.ReadOnce() is not { } present)
                {
                    continue;
                }

                present.Folio.MapCount++; // page_try_dup_anon_rmap()
                if (cow && present.Writable)
                {
                    present = present with { Writable = false };
                    pte.WriteOnce(present); // ptep_set_wrprotect()
                }

                this.rmap.MapAnonPage(dst, address, dst.VmMm.PageTable.Pte(address), present); // set_pte_at() in the child
            }
        }
    }

    /// <summary>do_madvise(), mm/madvise.c, v6.4, for a range that is one whole VMA.</summary>
    public int DoMadvise(MmStruct mm, ulong start, MadviseBehavior behavior)
    {
        using var fn = world.Enter("do_madvise", $"{VmAreaStruct.Hex(start)}, MADV_{behavior.ToString().ToUpperInvariant()}");
        var write = this.MadviseNeedMmapWrite(behavior);
        if (write)
        {
            locking.MmapWriteLock(mm);
        }
        else
        {
            locking.MmapReadLock(mm);
        }

        var vma = mm.MmMt.FindVma(start);
        var error = vma is null || vma.VmStart.ReadOnce() > start ? -Errno.ENOMEM : 0;
        if (error == 0 && behavior == MadviseBehavior.DontFork)
        {
            // madvise_behavior() → madvise_update_vma(): vm_flags change under the VMA write lock.
            locking.VmaStartWrite(vma!);
            this.VmFlagsReset(vma!, vma!.VmFlags.ReadOnce() | (ulong)VmFlags.DontCopy);
        }
        else if (error == 0)
        {
            this.ZapPageRange(vma!.VmMm, vma.VmStart.ReadOnce(), vma.VmEnd.ReadOnce());
        }

        if (write)
        {
            locking.MmapWriteUnlock(mm);
        }
        else
        {
            locking.MmapReadUnlock(mm);
        }

        return fn.Returns(error);
    }

    /// <summary>madvise_need_mmap_write(), mm/madvise.c, v6.4: which behaviours change VMAs and need mmap_lock for write.</summary>
    protected virtual bool MadviseNeedMmapWrite(MadviseBehavior behavior) => behavior switch
    {
        MadviseBehavior.DontNeed => false,
        _ => true,
    };

    /// <summary>
    /// do_vmi_munmap() → do_vmi_align_munmap(), mm/mmap.c, v6.4, for a range that is one whole VMA,
    /// as munmap(2) calls it (downgrade = true): write-lock and detach the VMA, remove it from the
    /// tree, downgrade mmap_lock (releasing every VMA write lock), tear down its page tables under
    /// the read lock, free it after an RCU grace period.
    /// </summary>
    public int DoMunmap(MmStruct mm, ulong start)
    {
        using var fn = world.Enter("do_vmi_munmap", VmAreaStruct.Hex(start));
        locking.MmapWriteLock(mm);
        var vma = mm.MmMt.FindVma(start);
        if (vma is null || vma.VmStart.ReadOnce() > start)
        {
            locking.MmapWriteUnlock(mm);
            return fn.Returns(0);
        }

        locking.VmaStartWrite(vma);
        locking.VmaMarkDetached(vma, true);
        mm.MmMt.Erase(vma);
        locking.MmapWriteDowngrade(mm);
        this.UnmapRegion(mm, vma);
        locking.VmAreaFree(vma);
        locking.MmapReadUnlock(mm);
        return fn.Returns(0);
    }

    /// <summary>
    /// vma_merge(), mm/mmap.c, v6.4, the case where <paramref name="next"/> is merged into
    /// <paramref name="prev"/> (prev expands over next, next is removed). Caller holds mmap_lock
    /// for write. vma_prepare() write-locks both; vma_complete() detaches and frees next.
    /// </summary>
    public void VmaMerge(VmAreaStruct prev, VmAreaStruct next)
    {
        using var fn = world.Enter("vma_merge", $"{prev.Name}, {next.Name}");
        var mm = prev.VmMm;

        // vma_prepare(): every VMA that changes or goes away is write-locked first.
        locking.VmaStartWrite(prev);
        locking.VmaStartWrite(next);

        // vma_expand() write-locks prev once more: idempotent within one mmap-write section.
        locking.VmaStartWrite(prev);
        var end = next.VmEnd.ReadOnce();
        prev.VmEnd.WriteOnce(end);
        mm.MmMt.Erase(next);
        mm.MmMt.Store(prev, prev.VmStart.ReadOnce(), end);

        // vma_complete(): the removed VMA is detached and freed.
        locking.VmaMarkDetached(next, true);
        locking.VmAreaFree(next);
    }

    /// <summary>
    /// __split_vma(vmi, vma, addr, new_below = 0), mm/mmap.c, v6.4: a new VMA takes [addr, vm_end);
    /// the old one shrinks. The new VMA is complete before it is inserted, so it is not locked.
    /// Caller holds mmap_lock for write. Returns the new VMA.
    /// </summary>
    public VmAreaStruct SplitVma(VmAreaStruct vma, ulong address)
    {
        using var fn = world.Enter("__split_vma", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
        var mm = vma.VmMm;

        // vm_area_dup(): a private copy, invisible to faults until vma_complete() stores it.
        var end = vma.VmEnd.ReadOnce();
        var created = locking.VmAreaAlloc(mm, world.NewName("vma"), address, end, (VmFlags)vma.VmFlags.ReadOnce(), vma.AnonVma.ReadOnce());
        created.AnonVmaChain = vma.AnonVmaChain; // anon_vma_clone()

        // vma_prepare(): the VMA that shrinks is write-locked.
        locking.VmaStartWrite(vma);
        vma.VmEnd.WriteOnce(address);

        // vma_complete(): store the shrunk range and the new VMA.
        mm.MmMt.Store(vma, vma.VmStart.ReadOnce(), address);
        this.InsertNewVma(created, address, end);
        return fn.Returns(created);
    }

    /// <summary>
    /// vma_iter_store_new(): a complete new VMA enters the tree; from v6.15 it is write-locked and
    /// marked attached first.
    /// </summary>
    private void InsertNewVma(VmAreaStruct vma, ulong start, ulong end)
    {
        if (locking.LocksNewVmaBeforeInsert)
        {
            this.WriteLockNewVma(vma);
        }

        vma.VmMm.MmMt.Store(vma, start, end);
    }

    /// <summary>vm_flags_reset(), include/linux/mm.h, v6.4: asserts the VMA write lock, then stores.</summary>
    private void VmFlagsReset(VmAreaStruct vma, ulong flags)
    {
        locking.VmaAssertWriteLocked(vma);
        vma.VmFlags.WriteOnce(flags);
    }

    /// <summary>unmap_region(), mm/mmap.c, v6.4: zap the VMA's page-table entries.</summary>
    private void UnmapRegion(MmStruct mm, VmAreaStruct vma)
    {
        using var fn = world.Enter("unmap_region", vma.Name);
        this.ZapPageRange(mm, vma.VmStart.ReadOnce(), vma.VmEnd.ReadOnce());
    }

    /// <summary>zap_page_range_single(): clear every present PTE of [start, end) under the page table lock.</summary>
    private void ZapPageRange(MmStruct mm, ulong start, ulong end)
    {
        lock (mm.PageTable.Ptl)
        {
            using var held = world.SpinHeld(mm.PageTable.Ptl);
            foreach (var (_, pte) in mm.PageTable.Range(start, end))
            {
                if (pte.ReadOnce() is { } present)
                {
                    pte.WriteOnce(null);
                    present.Folio.MapCount--; // page_remove_rmap()
                }
            }
        }
    }
}

/// <summary>The errno values the port returns (include/uapi/asm-generic/errno-base.h).</summary>
public static class Errno
{
    public const int EINTR = 4;

    public const int EFAULT = 14;

    public const int ENOMEM = 12;
}
