using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Implementation.Port;

/// <summary>include/linux/pagemap.h: page offsets.</summary>
public partial interface Linux
{
    /// <summary>linear_page_index(), include/linux/pagemap.h: ((address - vm_start) >> PAGE_SHIFT) + vm_pgoff.</summary>
    ulong LinearPageIndex(VmAreaStruct vma, ulong address)
    {
        using var fn = this.World.Enter("linear_page_index", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
        return fn.Returns(((address - vma.VmStart.Plain()) / PageTable.PageSize) + vma.VmPgoff.Plain());
    }
}
