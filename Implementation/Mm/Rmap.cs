using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>
/// The anon_vma side of mm/rmap.c and mm/mmap.c (v6.4) that the fault, fork and mremap paths
/// use: giving a VMA its first anon_vma, possibly a neighbour's, unlinking a VMA from its
/// anon_vma, and mapping an anonymous page as the reverse map sees it.
/// </summary>
public sealed class Rmap(KernelWorld world)
{
    /// <summary>
    /// __anon_vma_prepare(), mm/rmap.c, v6.4: reuse a neighbour's anon_vma
    /// (find_mergeable_anon_vma) or allocate one, and install it under the anon_vma lock and the
    /// page table lock unless another fault installed one first. The caller must keep the
    /// neighbours in place: mmap_lock held (for read at least). Returns the VMA's anon_vma.
    /// </summary>
    public AnonVma AnonVmaPrepare(VmAreaStruct vma)
    {
        using var fn = world.Enter("__anon_vma_prepare", vma.Name);
        var mm = vma.VmMm;
        var anonVma = this.FindMergeableAnonVma(vma);
        var reused = anonVma is not null;
        anonVma ??= new AnonVma(world, world.NewName("anon_vma")); // anon_vma_alloc()
        using (world.Enter("anon_vma_lock_write", anonVma.Name))
        {
            anonVma.Rwsem.DownWrite();
        }

        AnonVma? installed;
        lock (mm.PageTable.Ptl) // spin_lock(&mm->page_table_lock)
        {
            using var held = world.SpinHeld(mm.PageTable.Ptl);
            installed = vma.AnonVma.ReadOnce();
            if (installed is null)
            {
                vma.InstallAnonVma(anonVma, reused);
                vma.AnonVmaChain = [.. vma.AnonVmaChain, anonVma]; // anon_vma_chain_link()
                installed = anonVma;
            }
        }

        using (world.Enter("anon_vma_unlock_write", anonVma.Name))
        {
            anonVma.Rwsem.UpWrite();
        }

        return fn.Returns(installed);
    }

    /// <summary>
    /// find_mergeable_anon_vma(), mm/mmap.c, v6.4: the anon_vma of the next VMA, else of the
    /// previous one, if that VMA is adjacent and compatible (reusable_anon_vma). It reads the
    /// neighbours' fields without locking them.
    /// </summary>
    private AnonVma? FindMergeableAnonVma(VmAreaStruct vma)
    {
        using var fn = world.Enter("find_mergeable_anon_vma", vma.Name);
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
    private static AnonVma? ReusableAnonVma(VmAreaStruct old, VmAreaStruct a, VmAreaStruct b)
    {
        const ulong AccessFlags = (ulong)(VmFlags.Read | VmFlags.Write | VmFlags.Exec);
        var compatible = a.VmEnd.Plain() == b.VmStart.Plain()
            && a.VmFile == b.VmFile
            && ((a.VmFlags.Plain() ^ b.VmFlags.Plain()) & ~AccessFlags) == 0
            && b.VmPgoff.Plain() == a.VmPgoff.Plain() + ((b.VmStart.Plain() - a.VmStart.Plain()) / PageTable.PageSize);
        return compatible ? old.AnonVma.ReadOnce() : null;
    }

    /// <summary>
    /// set_pte_at() of a PTE mapping an anonymous page in <paramref name="vma"/>, reported with
    /// the page's anon_vma and the VMA's anon_vma_chain at that instant (the reverse map's view).
    /// </summary>
    public void MapAnonPage(VmAreaStruct vma, ulong address, Memory.SharedVar<Pte?> pte, Pte value)
    {
        pte.WriteOnce(value);
        world.Emit(new AnonPageMapped(
            world.Current.Name,
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
    public void UnlinkAnonVmas(VmAreaStruct vma)
    {
        using var fn = world.Enter("unlink_anon_vmas", vma.Name);
        if (vma.AnonVma.ReadOnce() is not { } anonVma)
        {
            return;
        }

        using (world.Enter("anon_vma_lock_write", anonVma.Name))
        {
            anonVma.Rwsem.DownWrite();
        }

        vma.AnonVmaChain = [];
        vma.AnonVma.WriteOnce(null);
        using (world.Enter("anon_vma_unlock_write", anonVma.Name))
        {
            anonVma.Rwsem.UpWrite();
        }
    }
}
