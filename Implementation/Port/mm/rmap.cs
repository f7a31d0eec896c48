using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Port;

/// <summary>
/// mm/rmap.c: the anon_vma side that the fault, fork and mremap paths use: giving a VMA its first
/// anon_vma, unlinking a VMA from its anon_vma, and mapping an anonymous page as the reverse map
/// sees it.
/// </summary>
public partial interface Linux
{
    /// <summary>
    /// __anon_vma_prepare(), mm/rmap.c, v6.4: reuse a neighbour's anon_vma
    /// (find_mergeable_anon_vma) or allocate one, and install it under the anon_vma lock and the
    /// page table lock unless another fault installed one first. The caller must keep the
    /// neighbours in place: mmap_lock held (for read at least). Returns the VMA's anon_vma.
    /// </summary>
    AnonVma __AnonVmaPrepare(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("__anon_vma_prepare", vma.Name);
        var mm = vma.VmMm;
        var anonVma = this.FindMergeableAnonVma(vma);
        var reused = anonVma is not null;
        if (anonVma is null)
        {
            this.World.MightSleep("anon_vma_alloc(): kmem_cache_alloc(anon_vma_cachep, GFP_KERNEL)");
            anonVma = new AnonVma(this.World, this.World.NewName("anon_vma"));
        }

        using (this.World.Enter("anon_vma_lock_write", anonVma.Name))
        {
            anonVma.Rwsem.DownWrite();
        }

        AnonVma? installed;
        lock (mm.PageTable.Ptl) // spin_lock(&mm->page_table_lock)
        {
            using var held = this.World.SpinHeld(mm.PageTable.Ptl);
            installed = vma.AnonVma.ReadOnce();
            if (installed is null)
            {
                vma.InstallAnonVma(anonVma, reused);
                vma.AnonVmaChain = [.. vma.AnonVmaChain, anonVma]; // anon_vma_chain_link()
                installed = anonVma;
            }
        }

        using (this.World.Enter("anon_vma_unlock_write", anonVma.Name))
        {
            anonVma.Rwsem.UpWrite();
        }

        return fn.Returns(installed);
    }

    /// <summary>
    /// set_pte_at() of a PTE mapping an anonymous page in <paramref name="vma"/>, reported with
    /// the page's anon_vma and the VMA's anon_vma_chain at that instant (the reverse map's view).
    /// </summary>
    void MapAnonPage(VmAreaStruct vma, ulong address, SharedVar<Pte?> pte, Pte value)
    {
        pte.WriteOnce(value);
        this.World.Emit(new AnonPageMapped(
            this.Thread,
            vma.VmMm.Name,
            vma.Name,
            address,
            value.Folio.Name,
            value.Folio.Mapping?.Name ?? "no anon_vma",
            [.. vma.AnonVmaChain.Select(a => a.Name)]));
    }

    /// <summary>
    /// unlink_anon_vmas(), mm/rmap.c, v6.4, as move_vma() calls it for MREMAP_DONTUNMAP: the VMA
    /// (write-locked by the caller) leaves its anon_vma; its anon_vma becomes NULL.
    /// </summary>
    void UnlinkAnonVmas(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("unlink_anon_vmas", vma.Name);
        if (vma.AnonVma.ReadOnce() is not { } anonVma)
        {
            return;
        }

        using (this.World.Enter("anon_vma_lock_write", anonVma.Name))
        {
            anonVma.Rwsem.DownWrite();
        }

        vma.AnonVmaChain = [];
        vma.AnonVma.WriteOnce(null);
        using (this.World.Enter("anon_vma_unlock_write", anonVma.Name))
        {
            anonVma.Rwsem.UpWrite();
        }
    }
}
