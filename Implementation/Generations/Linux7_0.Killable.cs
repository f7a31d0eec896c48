using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>
/// Generation "7.0": the writers v7.0 write-locks with vma_start_write_killable(). Of the writers the
/// port has, that is dup_mmap() alone (7370f8e1b3a8, v6.19): mprotect_fixup(), __split_vma(),
/// vma_merge_existing_range(), vma_expand(), vms_gather_munmap_vmas(), __mmap_new_vma(), mremap
/// and the rest were converted by a series deferred past v7.0. copy_page_range() asserts the
/// parent's VMA write lock before it write-protects a COW mapping.
/// </summary>
public partial interface Linux7_0
{
    /// <summary>
    /// dup_mmap(), mm/mmap.c (v7.0; kernel/fork.c before v6.16): each parent VMA is write-locked
    /// with vma_start_write_killable() before it is copied. A fatal signal during the wait for its
    /// readers ends the copy with -EINTR (<c>goto loop_out</c>): the VMA is not write-locked (the
    /// wait ended the exclusion itself), and the child's VMAs copied so far are torn down below the
    /// failure point. Both mmap_locks are released and the parent's TLB flushed as on success.
    /// Not modelled: mmap_write_lock_killable(oldmm) (the port's mmap_lock wait takes no signal),
    /// __mt_dup() (the child's tree grows as VMAs are copied, so what lies beyond the failure point
    /// is not in it), MMF_OOM_SKIP and MMF_UNSTABLE, accounting.
    /// </summary>
    int Linux.DupMmap(MmStruct mm, MmStruct oldmm)
    {
        using var fn = this.World.Enter("dup_mmap", $"{oldmm.Name} -> {mm.Name}");
        this.MmapWriteLock(oldmm);
        this.MmapWriteLock(mm); // mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING)
        var retval = 0;
        VmAreaStruct? mpnt;
        for (mpnt = oldmm.MmMt.FindVma(0); mpnt is not null; mpnt = oldmm.MmMt.FindVma(mpnt.VmEnd.ReadOnce()))
        {
            retval = this.VmaStartWriteKillable(mpnt);
            if (retval < 0)
            {
                break; // goto loop_out
            }

            this.DupMmapCopyVma(mm, mpnt);
        }

        // loop_out: the child's tree was copied as far as mpnt; tear down what is below it.
        if (retval != 0)
        {
            this.DupMmapTearDown(mm, mpnt!.VmStart.ReadOnce());
        }

        this.MmapWriteUnlock(mm);
        oldmm.FlushTlb("flush_tlb_mm");
        this.MmapWriteUnlock(oldmm);
        return fn.Returns(retval);
    }

    /// <summary>
    /// dup_mmap()'s failure path at <c>loop_out</c>, mm/mmap.c (v7.0): unless no VMA was written to
    /// the child's tree, unmap_region() over [0, end) and tear_down_vmas(), then __mt_destroy().
    /// </summary>
    protected sealed void DupMmapTearDown(MmStruct mm, ulong end)
    {
        if (mm.MmMt.FindVma(0) is not { } first || first.VmStart.ReadOnce() >= end)
        {
            return; // zero vmas were written to the new tree
        }

        // unmap_region() from 0: the page tables below the first VMA are empty.
        var start = first.VmStart.ReadOnce();
        using (this.World.Enter("unmap_region", $"{mm.Name}, {VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)}"))
        {
            this.ZapPageRangeSingle(mm, start, end);
        }

        this.TearDownVmas(mm, first, end);
    }

    /// <summary>
    /// tear_down_vmas(), mm/mmap.c (v7.0): with mmap_lock held for write, every VMA from
    /// <paramref name="vma"/> up to <paramref name="end"/> is detached (vma_mark_detached(), which
    /// asserts its write lock) and removed (remove_vma() → vm_area_free()).
    /// </summary>
    void TearDownVmas(MmStruct mm, VmAreaStruct vma, ulong end)
    {
        using var fn = this.World.Enter("tear_down_vmas", $"{mm.Name}, {vma.Name}, {VmAreaStruct.Hex(end)}");
        this.MmapAssertWriteLocked(mm);
        for (VmAreaStruct? next = vma; next is not null && next.VmEnd.ReadOnce() <= end; next = mm.MmMt.FindVma(0))
        {
            this.VmaMarkDetached(next, true);
            mm.MmMt.Erase(next);
            this.VmAreaFree(next);
        }
    }

    /// <summary>
    /// copy_page_range(), mm/memory.c (v7.0): as before, and for a COW mapping, before its PTEs
    /// are write-protected, vma_assert_write_locked(src_vma): page faults must be kept out of the
    /// parent's VMA while it is copied (mmu notifiers and write_protect_seq not modelled).
    /// </summary>
    void Linux.CopyPageRange(VmAreaStruct dst, VmAreaStruct src)
    {
        using var fn = this.World.Enter("copy_page_range", $"{dst.Name}, {src.Name}");
        if (src.AnonVma.ReadOnce() is null)
        {
            return;
        }

        var cow = IsCowMapping(src);
        if (cow)
        {
            this.VmaAssertWriteLocked(src);
        }

        this.CopyPteRange(dst, src, cow);
    }
}
