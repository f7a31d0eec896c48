using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Port;

/// <summary>
/// mm/memory.c: lock_vma_under_rcu() (here until v6.14; mm/mmap_lock.c from v6.15), the
/// anonymous and copy-on-write fault handlers, lock_mm_and_find_vma(), and the page-table copy
/// and zap that fork and munmap use. A fault is a reader of the per-VMA lock.
/// </summary>
public partial interface Linux
{
    /// <summary>
    /// lock_vma_under_rcu(), mm/memory.c, v6.5 (v6.4 with 657b5146955e): find the VMA covering
    /// the address under RCU and read-lock it, or return NULL (the fault then takes mmap_lock).
    /// </summary>
    VmAreaStruct? LockVmaUnderRcu(MmStruct mm, ulong address)
    {
        using var fn = this.World.Enter("lock_vma_under_rcu", $"{mm.Name}, {VmAreaStruct.Hex(address)}");
        this.World.Rcu.ReadLock();
        while (true) // retry:
        {
            var vma = mm.MmMt.MasWalk(address);
            if (vma is null)
            {
                return fn.Returns(this.LockVmaUnderRcuInval());
            }

            // Only anonymous vmas are supported for now.
            if (!vma.IsAnonymous)
            {
                return fn.Returns(this.LockVmaUnderRcuInval());
            }

            if (!this.VmaStartRead(vma))
            {
                return fn.Returns(this.LockVmaUnderRcuInval());
            }

            // Only after vma_start_read(): anon_vma_prepare() would look at unlocked neighbours, and
            // an mremap(MREMAP_DONTUNMAP) in between could take this VMA's anon_vma away (657b5146955e).
            if (vma.AnonVma.Plain() is null)
            {
                return fn.Returns(this.LockVmaUnderRcuInvalEndRead(vma));
            }

            // A userfaultfd handler may drop mmap_lock: such VMAs take the mmap_lock path instead.
            if (UserfaultfdArmed(vma))
            {
                return fn.Returns(this.LockVmaUnderRcuInvalEndRead(vma));
            }

            // Check since vm_start/vm_end might change before we lock the VMA.
            if (address < vma.VmStart.Plain() || address >= vma.VmEnd.Plain())
            {
                return fn.Returns(this.LockVmaUnderRcuInvalEndRead(vma));
            }

            // Check if the VMA got isolated after we found it.
            if (vma.Detached.Plain())
            {
                this.VmaEndRead(vma);
                this.World.CountVmEvent("VMA_LOCK_MISS");
                this.VmaLookupRetried(mm, vma);

                // The area was replaced with another one.
                continue;
            }

            return fn.Returns(this.LockVmaUnderRcuFound(mm, vma, address));
        }
    }

    /// <summary>lock_vma_under_rcu()'s success: the VMA goes to the fault (reported to the monitors), RCU is dropped.</summary>
    protected sealed VmAreaStruct LockVmaUnderRcuFound(MmStruct mm, VmAreaStruct vma, ulong address)
    {
        this.World.Emit(new FaultLockedVma(this.Thread, mm.Name, vma.Name, address));
        this.World.Rcu.ReadUnlock();
        return vma;
    }

    /// <summary>lock_vma_under_rcu()'s <c>inval_end_read:</c> label: vma_end_read(), then <c>inval:</c>.</summary>
    protected sealed VmAreaStruct? LockVmaUnderRcuInvalEndRead(VmAreaStruct vma)
    {
        this.VmaEndRead(vma);
        return this.LockVmaUnderRcuInval();
    }

    /// <summary>lock_vma_under_rcu()'s <c>inval:</c> label: count VMA_LOCK_ABORT, drop RCU, return NULL.</summary>
    protected sealed VmAreaStruct? LockVmaUnderRcuInval()
    {
        this.World.CountVmEvent("VMA_LOCK_ABORT");
        this.World.Rcu.ReadUnlock();
        return null;
    }

    /// <summary>userfaultfd_armed(), include/linux/userfaultfd_k.h: vm_flags has VM_UFFD_MISSING.</summary>
    protected static bool UserfaultfdArmed(VmAreaStruct vma) => (vma.VmFlags.Plain() & (ulong)VmFlags.UffdMissing) != 0;

    /// <summary>
    /// lock_mm_and_find_vma(), mm/memory.c, v6.5 (v6.4.1 stable): find the VMA under
    /// mmap_read_lock; an address just below a VM_GROWSDOWN VMA takes mmap_lock for write (read
    /// dropped, write taken, the VMA looked up again), expands the stack, and downgrades. Returns
    /// the VMA with mmap_lock held for read, or null with it released.
    /// </summary>
    VmAreaStruct? LockMmAndFindVma(MmStruct mm, ulong address)
    {
        using var fn = this.World.Enter("lock_mm_and_find_vma", VmAreaStruct.Hex(address));
        this.MmapReadLock(mm);
        var vma = mm.MmMt.FindVma(address);
        if (vma is not null && vma.VmStart.ReadOnce() <= address)
        {
            return fn.Returns(vma);
        }

        if (vma is null || (vma.VmFlags.ReadOnce() & (ulong)VmFlags.GrowsDown) == 0)
        {
            this.MmapReadUnlock(mm);
            return fn.Returns<VmAreaStruct?>(null);
        }

        // upgrade_mmap_lock_carefully(): no atomic upgrade, drop the read lock and take the write lock.
        this.MmapReadUnlock(mm);
        this.MmapWriteLock(mm);
        vma = mm.MmMt.FindVma(address);
        if (vma is null || (vma.VmStart.ReadOnce() > address
            && ((vma.VmFlags.ReadOnce() & (ulong)VmFlags.GrowsDown) == 0 || this.ExpandDownwards(vma, address) != 0)))
        {
            this.MmapWriteUnlock(mm);
            return fn.Returns<VmAreaStruct?>(null);
        }

        this.MmapWriteDowngrade(mm);
        return fn.Returns(vma);
    }

    /// <summary>
    /// handle_mm_fault() → handle_pte_fault(), mm/memory.c, v6.4: an absent PTE gets a fresh page
    /// (do_anonymous_page); a write to a present read-only one breaks copy-on-write (do_wp_page).
    /// </summary>
    FaultOutcome HandleMmFault(VmAreaStruct vma, ulong address, bool write, bool underVmaLock)
    {
        using var fn = this.World.Enter("handle_mm_fault", $"{vma.Name}, {VmAreaStruct.Hex(address)}{(underVmaLock ? ", FAULT_FLAG_VMA_LOCK" : "")}");
        var pte = vma.VmMm.PageTable.Pte(address);
        var orig = pte.ReadOnce();
        if (orig is not null)
        {
            return fn.Returns(write && !orig.Writable ? this.DoWpPage(vma, address, pte, orig, underVmaLock) : FaultOutcome.Handled("page present"));
        }

        return fn.Returns(this.DoAnonymousPage(vma, address, pte, write, underVmaLock));
    }

    /// <summary>do_anonymous_page(), mm/memory.c, v6.4: map a fresh page at the address unless one is already there.</summary>
    FaultOutcome DoAnonymousPage(VmAreaStruct vma, ulong address, SharedVar<Pte?> pte, bool write, bool underVmaLock)
    {
        var anonVma = this.AnonVmaPrepare(vma, underVmaLock);
        if (anonVma is null)
        {
            return NoAnonVma(underVmaLock);
        }

        // folio_add_new_anon_rmap(): the new page's index in its anon_vma, from vm_start and vm_pgoff.
        var index = this.LinearPageIndex(vma, address);

        // The new PTE's protection comes from vm_flags (vm_get_page_prot / maybe_mkwrite).
        var writable = write && (vma.VmFlags.ReadOnce() & (ulong)VmFlags.Write) != 0;
        var folio = new Folio(this.World, anonVma);
        lock (vma.VmMm.PageTable.Ptl)
        {
            using var held = this.World.SpinHeld(vma.VmMm.PageTable.Ptl);

            // pte_offset_map_lock(): re-check under the page table lock.
            if (pte.ReadOnce() is not null)
            {
                return FaultOutcome.Handled("raced with another fault");
            }

            this.MapAnonPage(vma, address, pte, new Pte(folio, writable));
        }

        return FaultOutcome.Handled($"mapped {(writable ? "writable " : "")}page, index {VmAreaStruct.Hex(index)}");
    }

    /// <summary>
    /// anon_vma_prepare(), include/linux/rmap.h, v6.4, as do_anonymous_page() and wp_page_copy()
    /// call it: the VMA's anon_vma, given one first if it has none. v6.4 calls it under the VMA
    /// lock too, trusting lock_vma_under_rcu() to have refused VMAs without one. The port does not
    /// fault file pages: a file VMA without an anon_vma gets null.
    /// </summary>
    AnonVma? AnonVmaPrepare(VmAreaStruct vma, bool underVmaLock)
    {
        var anonVma = vma.AnonVma.ReadOnce();
        if (anonVma is not null || !vma.IsAnonymous)
        {
            return anonVma;
        }

        return this.__AnonVmaPrepare(vma);
    }

    /// <summary>
    /// How a fault that needs an anon_vma and got none ends: VM_FAULT_RETRY under the VMA lock
    /// (vmf_anon_prepare(), or a file VMA), else as anon_vma_prepare()'s failure.
    /// </summary>
    protected static FaultOutcome NoAnonVma(bool underVmaLock) => underVmaLock ? VmFault.Retry : new FaultOutcome(VmFault.Oom, "no anon_vma");

    /// <summary>
    /// do_wp_page(), mm/memory.c, v6.4: a write to a present read-only PTE of a private mapping. A
    /// page mapped only here is made writable again (wp_page_reuse); a page still shared with
    /// another mm (after fork) is copied (wp_page_copy): the copy is made outside the page table
    /// lock, then the old PTE is cleared and the TLB flushed (ptep_clear_flush) before the copy is
    /// mapped writable, and only if the PTE did not change meanwhile (pte_same).
    /// </summary>
    FaultOutcome DoWpPage(VmAreaStruct vma, ulong address, SharedVar<Pte?> pte, Pte orig, bool underVmaLock)
    {
        using var fn = this.World.Enter("do_wp_page", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
        var mm = vma.VmMm;
        lock (mm.PageTable.Ptl)
        {
            using var held = this.World.SpinHeld(mm.PageTable.Ptl);
            if (pte.ReadOnce() != orig)
            {
                return fn.Returns(FaultOutcome.Handled("PTE changed"));
            }

            if (orig.Folio.MapCount == 1)
            {
                pte.WriteOnce(orig with { Writable = true }); // wp_page_reuse()
                return fn.Returns(FaultOutcome.Handled("reused exclusive page"));
            }
        }

        using var copy = this.World.Enter("wp_page_copy", $"{vma.Name}, {VmAreaStruct.Hex(address)}");

        var anonVma = this.AnonVmaPrepare(vma, underVmaLock);
        if (anonVma is null)
        {
            return fn.Returns(NoAnonVma(underVmaLock));
        }

        // __wp_page_copy_user(): the new page starts as a copy of the old one.
        var folio = new Folio(this.World, anonVma, orig.Folio.Data.ReadOnce());
        lock (mm.PageTable.Ptl)
        {
            using var held = this.World.SpinHeld(mm.PageTable.Ptl);
            if (pte.ReadOnce() != orig)
            {
                return fn.Returns(FaultOutcome.Handled("PTE changed"));
            }

            // ptep_clear_flush(): no CPU may keep writing to the old page through the old PTE.
            pte.WriteOnce(null);
            mm.FlushTlb("flush_tlb_page");
            this.MapAnonPage(vma, address, pte, new Pte(folio, Writable: true));
            orig.Folio.MapCount--; // folio_remove_rmap_pte() of the old page
        }

        return fn.Returns(FaultOutcome.Handled("copied page on write"));
    }

    /// <summary>
    /// copy_page_range(), mm/memory.c, v6.4: a VMA without an anon_vma (looked at again here) has
    /// no anonymous pages to copy (vma_needs_copy()): the child faults them in; otherwise the page
    /// table is copied (<see cref="CopyPteRange"/>), write-protecting a private writable (COW)
    /// mapping's pages.
    /// </summary>
    void CopyPageRange(VmAreaStruct dst, VmAreaStruct src)
    {
        using var fn = this.World.Enter("copy_page_range", $"{dst.Name}, {src.Name}");
        if (src.AnonVma.ReadOnce() is null)
        {
            return;
        }

        this.CopyPteRange(dst, src, IsCowMapping(src));
    }

    /// <summary>is_cow_mapping(), include/linux/mm.h: private and may be written.</summary>
    protected static bool IsCowMapping(VmAreaStruct vma) =>
        ((VmFlags)vma.VmFlags.ReadOnce() & (VmFlags.Shared | VmFlags.MayWrite)) == VmFlags.MayWrite;

    /// <summary>
    /// copy_pte_range() → copy_present_pte(), mm/memory.c, v6.4: every present PTE of the parent's
    /// VMA is copied into the child under the page table lock; in a COW mapping both copies are
    /// write-protected (ptep_set_wrprotect, without a TLB flush: dup_mmap flushes once at the end),
    /// and the page is now mapped twice.
    /// </summary>
    protected sealed void CopyPteRange(VmAreaStruct dst, VmAreaStruct src, bool cow)
    {
        var parent = src.VmMm.PageTable;
        lock (parent.Ptl)
        {
            using var held = this.World.SpinHeld(parent.Ptl);
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

                this.MapAnonPage(dst, address, dst.VmMm.PageTable.Pte(address), present); // set_pte_at() in the child
            }
        }
    }

    /// <summary>zap_page_range_single(), mm/memory.c, v6.4: clear every present PTE of [start, end) under the page table lock.</summary>
    void ZapPageRangeSingle(MmStruct mm, ulong start, ulong end)
    {
        lock (mm.PageTable.Ptl)
        {
            using var held = this.World.SpinHeld(mm.PageTable.Ptl);
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
