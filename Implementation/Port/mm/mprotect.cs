using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Implementation.Port;

/// <summary>mm/mprotect.c: changing a mapping's protection.</summary>
public partial interface Linux
{
    /// <summary>
    /// do_mprotect_pkey(), mm/mprotect.c, v6.4, for a range that is one whole VMA. With
    /// <paramref name="killable"/> the VMA is write-locked with vma_start_write_killable() (v6.19),
    /// and a fatal signal during the wait ends the call with -EINTR.
    /// </summary>
    int DoMprotectPkey(MmStruct mm, ulong start, VmFlags newFlags, bool killable = false)
    {
        using var fn = this.World.Enter("do_mprotect_pkey", $"{VmAreaStruct.Hex(start)}, {VmFlagsFormat.Describe((ulong)newFlags)}");
        this.MmapWriteLock(mm);
        var vma = mm.MmMt.FindVma(start);
        var error = vma is null || vma.VmStart.ReadOnce() > start ? -Errno.ENOMEM : 0;
        if (error == 0)
        {
            error = this.MprotectFixup(vma!, newFlags, killable);
        }

        this.MmapWriteUnlock(mm);
        return fn.Returns(error);
    }

    /// <summary>mprotect_fixup(), mm/mprotect.c, v6.4: vm_flags and vm_page_prot change under the VMA write lock.</summary>
    int MprotectFixup(VmAreaStruct vma, VmFlags newFlags, bool killable = false)
    {
        using var fn = this.World.Enter("mprotect_fixup", vma.Name);
        if (killable)
        {
            var error = this.VmaStartWriteKillable(vma);
            if (error != 0)
            {
                return fn.Returns(error);
            }
        }
        else
        {
            this.VmaStartWrite(vma);
        }

        this.VmFlagsReset(vma, (ulong)newFlags);
        return fn.Returns(0);
    }
}
