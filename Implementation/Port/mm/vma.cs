using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Implementation.Port;

/// <summary>
/// mm/vma.c and mm/vma.h (from v6.11; before, mm/mmap.c and mm/internal.h): the VMA iterator's
/// store of a new VMA.
/// </summary>
public partial interface Linux
{
    /// <summary>
    /// vma_iter_store(), mm/internal.h, v6.4, for a complete new VMA (from __split_vma(),
    /// dup_mmap() and copy_vma()): it enters the tree as it is, unlocked.
    /// </summary>
    void VmaIterStoreNew(VmAreaStruct vma, ulong start, ulong end) => vma.VmMm.MmMt.Store(vma, start, end);
}
