using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Implementation.Port;

/// <summary>mm/gup.c: faulting pages in on behalf of the kernel (mm_populate).</summary>
public partial interface Linux
{
    /// <summary>
    /// populate_vma_page_range() → __get_user_pages() → handle_mm_fault(), mm/gup.c, v6.4: fault a
    /// page in with mmap_lock already held for read (as mm_populate does after a downgrade).
    /// </summary>
    string PopulateVmaPageRange(MmStruct mm, ulong address)
    {
        using var fn = this.World.Enter("populate_vma_page_range", VmAreaStruct.Hex(address));
        var vma = mm.MmMt.FindVma(address);
        return fn.Returns(vma is null || vma.VmStart.ReadOnce() > address
            ? "-EFAULT"
            : this.HandleMmFault(vma, address, write: true, underVmaLock: false).ToString());
    }
}
