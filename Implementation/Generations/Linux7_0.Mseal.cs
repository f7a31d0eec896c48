using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>
/// Generation "7.0", mm/mseal.c: mseal(2), which seals VMAs against later changes by setting
/// VM_SEALED with vm_flags_set(), which write-locks each VMA first. Read from the stored text of
/// v7.0-cycle mm/mseal.c (after 6.19's "mm: update vma_modify_flags() to handle residual flags").
/// <para>
/// Not modelled: the checks of the flags argument and of 32-bit kernels, untagged addresses,
/// mmap_write_lock_killable()'s signal (the port's mmap_lock wait takes none), and
/// vma_modify_flags()'s merge or split (the port seals whole VMAs whose neighbours are not sealed,
/// so there is neither).
/// </para>
/// </summary>
public partial interface Linux7_0
{
    /// <summary>
    /// do_mseal(), mm/mseal.c (v7.0): a page-aligned range with no gap in it, sealed under
    /// mmap_lock held for write.
    /// </summary>
    int DoMseal(MmStruct mm, ulong start, ulong lenIn)
    {
        using var fn = this.World.Enter("do_mseal", $"{VmAreaStruct.Hex(start)}, {VmAreaStruct.Hex(lenIn)}");
        if (start % PageTable.PageSize != 0)
        {
            return fn.Returns(-Errno.EINVAL);
        }

        var len = PageAlign(lenIn);
        if (len < lenIn)
        {
            return fn.Returns(-Errno.ENOMEM);
        }

        var end = start + len;
        if (end < start)
        {
            return fn.Returns(-Errno.EINVAL);
        }

        if (end == start)
        {
            return fn.Returns(0);
        }

        this.MmapWriteLock(mm);

        // Does the [start, end) range contain any unmapped memory?
        var error = this.RangeContainsUnmapped(mm, start, end) ? -Errno.ENOMEM : this.MsealApply(mm, start, end);
        this.MmapWriteUnlock(mm);
        return fn.Returns(error);
    }

    /// <summary>range_contains_unmapped(), mm/mseal.c (v7.0): whether a gap lies between the VMAs of [start, end).</summary>
    bool RangeContainsUnmapped(MmStruct mm, ulong start, ulong end)
    {
        using var fn = this.World.Enter("range_contains_unmapped", $"{VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)}");
        var prevEnd = start;
        for (var vma = mm.MmMt.FindVma(start); vma is not null && vma.VmStart.Plain() < end; vma = mm.MmMt.FindVma(prevEnd))
        {
            if (vma.VmStart.Plain() > prevEnd)
            {
                return fn.Returns(true);
            }

            prevEnd = vma.VmEnd.Plain();
            if (prevEnd >= end)
            {
                break;
            }
        }

        return fn.Returns(prevEnd < end);
    }

    /// <summary>
    /// mseal_apply(), mm/mseal.c (v7.0): each VMA of the range not sealed yet gets VM_SEALED
    /// through vm_flags_set(), which write-locks it and then ORs the bit in (a plain
    /// read-modify-write of vm_flags, under the write lock).
    /// </summary>
    int MsealApply(MmStruct mm, ulong start, ulong end)
    {
        using var fn = this.World.Enter("mseal_apply", $"{VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)}");
        var currStart = start;
        for (var vma = mm.MmMt.FindVma(currStart); vma is not null && vma.VmStart.Plain() < end; vma = mm.MmMt.FindVma(currStart))
        {
            var currEnd = Math.Min(vma.VmEnd.Plain(), end);
            if ((vma.VmFlags.Plain() & (ulong)VmFlags.Sealed) == 0)
            {
                // vm_flags = vma->vm_flags | VM_SEALED goes to vma_modify_flags(), which neither merges nor splits here.
                this.VmFlagsSet(vma, (ulong)VmFlags.Sealed);
            }

            currStart = currEnd;
            if (currStart >= end)
            {
                break;
            }
        }

        return fn.Returns(0);
    }
}
