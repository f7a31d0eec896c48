using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Implementation.Port;

/// <summary>mm/mremap.c: moving a mapping.</summary>
public partial interface Linux
{
    /// <summary>
    /// mremap(old, len, len, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, new) of one whole
    /// VMA: do_mremap() → mremap_to() → move_vma(), mm/mremap.c, v6.4. Under mmap_lock held for
    /// write the VMA is write-locked, copied to a new VMA at <paramref name="newAddr"/> that shares
    /// its anon_vma and keeps its vm_pgoff (copy_vma), its page table entries are moved there
    /// (move_page_tables, then a TLB flush), and, for MREMAP_DONTUNMAP, the old VMA stays mapped
    /// but empty and leaves its anon_vma (unlink_anon_vmas): its anon_vma becomes NULL. Not
    /// modelled: the VM_LOCKED flags DONTUNMAP clears, accounting. Returns 0 or a negative errno.
    /// </summary>
    int Mremap(MmStruct mm, ulong oldAddr, ulong newAddr)
    {
        using var fn = this.World.Enter("mremap", $"{VmAreaStruct.Hex(oldAddr)}, MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP, {VmAreaStruct.Hex(newAddr)}");
        this.MmapWriteLock(mm);
        var vma = mm.MmMt.FindVma(oldAddr);
        if (vma is null || vma.VmStart.ReadOnce() != oldAddr)
        {
            this.MmapWriteUnlock(mm);
            return fn.Returns(-Errno.EFAULT);
        }

        using (this.World.Enter("move_vma", vma.Name))
        {
            this.VmaStartWrite(vma); // no page fault may run on the VMA while its pages move away

            // copy_vma(): vm_area_dup() + anon_vma_clone() + vma_link().
            var length = vma.VmEnd.ReadOnce() - oldAddr;
            var newVma = this.VmAreaAlloc(mm, this.World.NewVmaName(), newAddr, newAddr + length, (VmFlags)vma.VmFlags.ReadOnce(), vma.AnonVma.ReadOnce());
            newVma.VmPgoff.WriteOnce(vma.VmPgoff.ReadOnce());
            newVma.AnonVmaChain = vma.AnonVmaChain; // anon_vma_clone()
            this.VmaIterStoreNew(newVma, newAddr, newAddr + length);
            this.MovePageTables(vma, oldAddr, newVma, newAddr, length);
            this.UnlinkAnonVmas(vma);
        }

        this.MmapWriteUnlock(mm);
        return fn.Returns(0);
    }

    /// <summary>
    /// move_page_tables() → move_ptes(), mm/mremap.c, v6.4: every present PTE of the old range
    /// moves to the new one under the page table lock, then the old range's TLB entries are flushed.
    /// </summary>
    void MovePageTables(VmAreaStruct vma, ulong oldAddr, VmAreaStruct newVma, ulong newAddr, ulong length)
    {
        using var fn = this.World.Enter("move_page_tables", $"{vma.Name}, {newVma.Name}");
        var table = vma.VmMm.PageTable;
        lock (table.Ptl)
        {
            using var held = this.World.SpinHeld(table.Ptl);
            foreach (var (address, pte) in table.Range(oldAddr, oldAddr + length))
            {
                if (pte.ReadOnce() is { } present)
                {
                    pte.WriteOnce(null); // ptep_get_and_clear()
                    var moved = newAddr + (address - oldAddr);
                    this.MapAnonPage(newVma, moved, table.Pte(moved), present);
                }
            }
        }

        vma.VmMm.FlushTlb("flush_tlb_range");
    }
}
