using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Implementation.Port;

/// <summary>mm/userfaultfd.c: UFFDIO_COPY's VMA lock, taken under mmap_read_lock (v6.13+).</summary>
public partial interface Linux
{
    /// <summary>
    /// uffd_lock_vma(), mm/userfaultfd.c (v6.13+): find the VMA under mmap_read_lock, read-lock it
    /// with vma_start_read_locked(), drop mmap_lock, and keep working on the VMA under its own lock.
    /// Returns the locked VMA, or null.
    /// </summary>
    VmAreaStruct? UffdLockVma(MmStruct mm, ulong address)
    {
        using var fn = this.World.Enter("uffd_lock_vma", VmAreaStruct.Hex(address));
        this.MmapReadLock(mm);
        var vma = mm.MmMt.FindVma(address);
        if (vma is not null && (vma.VmStart.ReadOnce() > address || !this.VmaStartReadLocked(vma)))
        {
            vma = null;
        }

        this.MmapReadUnlock(mm);
        return fn.Returns(vma);
    }

    /// <summary>
    /// mfill_atomic(), mm/userfaultfd.c, with a VMA locked by uffd_lock_vma(): reads the fields it
    /// depends on (range and flags), fills a page, and drops the VMA lock.
    /// </summary>
    string MfillAtomic(VmAreaStruct vma, ulong address)
    {
        using var fn = this.World.Enter("mfill_atomic", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
        var outcome = address < vma.VmStart.ReadOnce() || address >= vma.VmEnd.ReadOnce()
            ? "-ENOENT"
            : this.HandleMmFault(vma, address, write: true, underVmaLock: true).ToString();
        this.VmaEndRead(vma);
        return fn.Returns(outcome);
    }
}
