using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>
/// The page-fault path: do_user_addr_fault() of arch/x86/mm/fault.c (v6.4) with its per-VMA lock
/// attempt and its fallback to mmap_read_lock, and the anonymous-fault part of handle_mm_fault()
/// (mm/memory.c). A fault is a reader of the per-VMA lock.
/// </summary>
public sealed class FaultHandler(KernelWorld world, VmaLockGeneration locking, MmOperations operations)
{
    /// <summary>VM_FAULT_RETRY: the handler cannot finish under the VMA lock.</summary>
    public const string Retry = "VM_FAULT_RETRY";

    private readonly Rmap rmap = new(world);

    private string Thread => world.Current.Name;

    /// <summary>do_user_addr_fault(), arch/x86/mm/fault.c, v6.4. Returns how the fault ended.</summary>
    public string DoUserAddrFault(MmStruct mm, ulong address, bool write)
    {
        world.Emit(new FaultStarted(this.Thread, mm.Name, address));
        string outcome;
        using (var fn = world.Enter("do_user_addr_fault", $"{VmAreaStruct.Hex(address)}, {(write ? "write" : "read")}"))
        {
            outcome = this.TryUnderVmaLock(mm, address, write) ?? this.UnderMmapLock(mm, address, write);
        }

        world.Emit(new FaultCompleted(this.Thread, mm.Name, address, outcome));
        return outcome;
    }

    /// <summary>The FAULT_FLAG_VMA_LOCK attempt; null when the fault must be redone under mmap_lock.</summary>
    private string? TryUnderVmaLock(MmStruct mm, ulong address, bool write)
    {
        var vma = locking.LockVmaUnderRcu(mm, address);
        if (vma is null)
        {
            world.Emit(new FaultFellBack(this.Thread, mm.Name, address, "lock_vma_under_rcu returned NULL"));
            return null;
        }

        if (AccessError(vma, write))
        {
            locking.VmaEndRead(vma);
            world.Emit(new FaultFellBack(this.Thread, mm.Name, address, "access_error"));
            return null;
        }

        var fault = this.HandleMmFault(vma, address, write, underVmaLock: true);
        locking.VmaEndRead(vma);
        if (fault != Retry)
        {
            world.CountVmEvent("VMA_LOCK_SUCCESS");
            return fault;
        }

        world.CountVmEvent("VMA_LOCK_RETRY");
        world.Emit(new FaultFellBack(this.Thread, mm.Name, address, Retry));
        return null;
    }

    /// <summary>The lock_mmap: part of do_user_addr_fault(): lock_mm_and_find_vma() and handle_mm_fault() under mmap_read_lock.</summary>
    private string UnderMmapLock(MmStruct mm, ulong address, bool write)
    {
        var vma = this.LockMmAndFindVma(mm, address);
        if (vma is null)
        {
            return "SIGSEGV (bad_area)"; // lock_mm_and_find_vma() has dropped mmap_lock
        }

        var outcome = AccessError(vma, write) ? "SIGSEGV (access_error)" : this.HandleMmFault(vma, address, write, underVmaLock: false);
        locking.MmapReadUnlock(mm);
        return outcome;
    }

    /// <summary>
    /// lock_mm_and_find_vma(), mm/memory.c, v6.5 (v6.4.1 stable): find the VMA under
    /// mmap_read_lock; an address just below a VM_GROWSDOWN VMA takes mmap_lock for write (read
    /// dropped, write taken, the VMA looked up again), expands the stack, and downgrades. Returns
    /// the VMA with mmap_lock held for read, or null with it released.
    /// </summary>
    private VmAreaStruct? LockMmAndFindVma(MmStruct mm, ulong address)
    {
        using var fn = world.Enter("lock_mm_and_find_vma", VmAreaStruct.Hex(address));
        locking.MmapReadLock(mm);
        var vma = mm.MmMt.FindVma(address);
        if (vma is not null && vma.VmStart.ReadOnce() <= address)
        {
            return fn.Returns(vma);
        }

        if (vma is null || (vma.VmFlags.ReadOnce() & (ulong)VmFlags.GrowsDown) == 0)
        {
            locking.MmapReadUnlock(mm);
            return fn.Returns<VmAreaStruct?>(null);
        }

        // upgrade_mmap_lock_carefully(): no atomic upgrade, drop the read lock and take the write lock.
        locking.MmapReadUnlock(mm);
        locking.MmapWriteLock(mm);
        vma = mm.MmMt.FindVma(address);
        if (vma is null || (vma.VmStart.ReadOnce() > address
            && ((vma.VmFlags.ReadOnce() & (ulong)VmFlags.GrowsDown) == 0 || operations.ExpandDownwards(vma, address) != 0)))
        {
            locking.MmapWriteUnlock(mm);
            return fn.Returns<VmAreaStruct?>(null);
        }

        locking.MmapWriteDowngrade(mm);
        return fn.Returns(vma);
    }

    /// <summary>
    /// populate_vma_page_range() → __get_user_pages() → handle_mm_fault(), mm/gup.c, v6.4: fault a
    /// page in with mmap_lock already held for read (as mm_populate does after a downgrade).
    /// </summary>
    public string PopulateUnderReadLock(MmStruct mm, ulong address)
    {
        using var fn = world.Enter("populate_vma_page_range", VmAreaStruct.Hex(address));
        var vma = mm.MmMt.FindVma(address);
        return fn.Returns(vma is null || vma.VmStart.ReadOnce() > address
            ? "-EFAULT"
            : this.HandleMmFault(vma, address, write: true, underVmaLock: false));
    }

    /// <summary>
    /// uffd_lock_vma(), mm/userfaultfd.c (v6.13+): find the VMA under mmap_read_lock, read-lock it
    /// with vma_start_read_locked(), drop mmap_lock, and keep working on the VMA under its own lock.
    /// Returns the locked VMA, or null.
    /// </summary>
    public VmAreaStruct? UffdLockVma(MmStruct mm, ulong address)
    {
        using var fn = world.Enter("uffd_lock_vma", VmAreaStruct.Hex(address));
        locking.MmapReadLock(mm);
        var vma = mm.MmMt.FindVma(address);
        if (vma is not null && (vma.VmStart.ReadOnce() > address || !locking.VmaStartReadLocked(vma)))
        {
            vma = null;
        }

        locking.MmapReadUnlock(mm);
        return fn.Returns(vma);
    }

    /// <summary>
    /// What mfill_atomic() does with a VMA locked by uffd_lock_vma(): reads the fields it depends on
    /// (range and flags), fills a page, and drops the VMA lock.
    /// </summary>
    public string UffdFill(VmAreaStruct vma, ulong address)
    {
        using var fn = world.Enter("mfill_atomic", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
        var outcome = address < vma.VmStart.ReadOnce() || address >= vma.VmEnd.ReadOnce()
            ? "-ENOENT"
            : this.HandleMmFault(vma, address, write: true, underVmaLock: true);
        locking.VmaEndRead(vma);
        return fn.Returns(outcome);
    }

    /// <summary>linear_page_index(), include/linux/pagemap.h: ((address - vm_start) >> PAGE_SHIFT) + vm_pgoff.</summary>
    private ulong LinearPageIndex(VmAreaStruct vma, ulong address)
    {
        using var fn = world.Enter("linear_page_index", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
        return fn.Returns(((address - vma.VmStart.Plain()) / PageTable.PageSize) + vma.VmPgoff.Plain());
    }

    /// <summary>access_error(), arch/x86/mm/fault.c: the fault's kind against vm_flags.</summary>
    private static bool AccessError(VmAreaStruct vma, bool write)
    {
        var flags = vma.VmFlags.ReadOnce();
        return write ? (flags & (ulong)VmFlags.Write) == 0 : (flags & (ulong)(VmFlags.Read | VmFlags.Exec | VmFlags.Write)) == 0;
    }

    /// <summary>
    /// handle_mm_fault() → handle_pte_fault(), mm/memory.c, v6.4: an absent PTE gets a fresh page
    /// (do_anonymous_page); a write to a present read-only one breaks copy-on-write (do_wp_page).
    /// </summary>
    private string HandleMmFault(VmAreaStruct vma, ulong address, bool write, bool underVmaLock)
    {
        using var fn = world.Enter("handle_mm_fault", $"{vma.Name}, {VmAreaStruct.Hex(address)}{(underVmaLock ? ", FAULT_FLAG_VMA_LOCK" : "")}");
        var pte = vma.VmMm.PageTable.Pte(address);
        var orig = pte.ReadOnce();
        if (orig is not null)
        {
            return fn.Returns(write && !orig.Writable ? this.DoWpPage(vma, address, pte, orig, underVmaLock) : "handled (page present)");
        }

        return fn.Returns(this.DoAnonymousPage(vma, address, pte, write, underVmaLock));
    }

    /// <summary>do_anonymous_page(), mm/memory.c, v6.4: map a fresh page at the address unless one is already there.</summary>
    private string DoAnonymousPage(VmAreaStruct vma, ulong address, SharedVar<Pte?> pte, bool write, bool underVmaLock)
    {
        var anonVma = this.AnonVmaPrepare(vma, underVmaLock);
        if (anonVma is null)
        {
            return NoAnonVma(underVmaLock);
        }

        // folio_add_new_anon_rmap(): the new page's index in its anon_vma, from vm_start and vm_pgoff.
        var index = LinearPageIndex(vma, address);

        // The new PTE's protection comes from vm_flags (vm_get_page_prot / maybe_mkwrite).
        var writable = write && (vma.VmFlags.ReadOnce() & (ulong)VmFlags.Write) != 0;
        var folio = new Folio(world, anonVma);
        lock (vma.VmMm.PageTable.Ptl)
        {
            using var held = world.SpinHeld(vma.VmMm.PageTable.Ptl);
            // pte_offset_map_lock(): re-check under the page table lock.
            if (pte.ReadOnce() is not null)
            {
                return "handled (raced with another fault)";
            }

            rmap.MapAnonPage(vma, address, pte, new Pte(folio, writable));
        }

        return $"handled (mapped {(writable ? "writable " : "")}page, index {VmAreaStruct.Hex(index)})";
    }

    /// <summary>
    /// anon_vma_prepare(), include/linux/rmap.h, as do_anonymous_page() and wp_page_copy() call it:
    /// the VMA's anon_vma, given one first if it has none. v6.4 calls it under the VMA lock too,
    /// trusting lock_vma_under_rcu() to have refused VMAs without one; from v6.7
    /// vmf_anon_prepare() returns VM_FAULT_RETRY instead (null here) when it would have to. The
    /// port does not fault file pages: a file VMA without an anon_vma gets null.
    /// </summary>
    private AnonVma? AnonVmaPrepare(VmAreaStruct vma, bool underVmaLock)
    {
        var anonVma = vma.AnonVma.ReadOnce();
        if (anonVma is not null || !vma.IsAnonymous || (underVmaLock && locking.AnonVmaPrepareRetriesUnderVmaLock))
        {
            return anonVma;
        }

        return rmap.AnonVmaPrepare(vma);
    }

    /// <summary>
    /// How a fault that needs an anon_vma and got none ends: VM_FAULT_RETRY under the VMA lock
    /// (vmf_anon_prepare(), or a file VMA), else as anon_vma_prepare()'s failure.
    /// </summary>
    private static string NoAnonVma(bool underVmaLock) => underVmaLock ? Retry : "VM_FAULT_OOM (no anon_vma)";

    /// <summary>
    /// do_wp_page(), mm/memory.c, v6.4: a write to a present read-only PTE of a private mapping. A
    /// page mapped only here is made writable again (wp_page_reuse); a page still shared with
    /// another mm (after fork) is copied (wp_page_copy): the copy is made outside the page table
    /// lock, then the old PTE is cleared and the TLB flushed (ptep_clear_flush) before the copy is
    /// mapped writable, and only if the PTE did not change meanwhile (pte_same).
    /// </summary>
    private string DoWpPage(VmAreaStruct vma, ulong address, SharedVar<Pte?> pte, Pte orig, bool underVmaLock)
    {
        using var fn = world.Enter("do_wp_page", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
        var mm = vma.VmMm;
        lock (mm.PageTable.Ptl)
        {
            using var held = world.SpinHeld(mm.PageTable.Ptl);
            if (pte.ReadOnce() != orig)
            {
                return fn.Returns("handled (PTE changed)");
            }

            if (orig.Folio.MapCount == 1)
            {
                pte.WriteOnce(orig with { Writable = true }); // wp_page_reuse()
                return fn.Returns("handled (reused exclusive page)");
            }
        }

        using var copy = world.Enter("wp_page_copy", $"{vma.Name}, {VmAreaStruct.Hex(address)}");

        var anonVma = this.AnonVmaPrepare(vma, underVmaLock);
        if (anonVma is null)
        {
            return fn.Returns(NoAnonVma(underVmaLock));
        }

        // __wp_page_copy_user(): the new page starts as a copy of the old one.
        var folio = new Folio(world, anonVma, orig.Folio.Data.ReadOnce());
        lock (mm.PageTable.Ptl)
        {
            using var held = world.SpinHeld(mm.PageTable.Ptl);
            if (pte.ReadOnce() != orig)
            {
                return fn.Returns("handled (PTE changed)");
            }

            // ptep_clear_flush(): no CPU may keep writing to the old page through the old PTE.
            pte.WriteOnce(null);
            mm.FlushTlb("flush_tlb_page");
            rmap.MapAnonPage(vma, address, pte, new Pte(folio, Writable: true));
            orig.Folio.MapCount--; // folio_remove_rmap_pte() of the old page
        }

        return fn.Returns("handled (copied page on write)");
    }
}
