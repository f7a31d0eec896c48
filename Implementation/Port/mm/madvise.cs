using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Implementation.Port;

/// <summary>madvise() behaviours the scenarios use (include/uapi/asm-generic/mman-common.h).</summary>
public enum MadviseBehavior
{
    /// <summary>MADV_DONTNEED: zap the pages; needs mmap_lock only for read.</summary>
    DontNeed = 4,

    /// <summary>MADV_FREE: the pages may be freed lazily, if not written again; from v6.16 under the VMA read lock.</summary>
    Free = 8,

    /// <summary>MADV_DONTFORK: set VM_DONTCOPY on the VMA; needs mmap_lock for write.</summary>
    DontFork = 10,

    /// <summary>MADV_GUARD_INSTALL (v6.13+): fatal-signal guard markers in the range's page tables; from v6.19 under the VMA read lock.</summary>
    GuardInstall = 102,

    /// <summary>MADV_GUARD_REMOVE (v6.13+): clear the range's guard markers; from v6.19 under the VMA read lock.</summary>
    GuardRemove = 103,
}

/// <summary>The kernel's spelling of a madvise() behaviour.</summary>
public static class MadviseBehaviorName
{
    /// <summary>MADV_DONTNEED, MADV_FREE, MADV_DONTFORK, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE.</summary>
    public static string KernelName(this MadviseBehavior behavior) => behavior switch
    {
        MadviseBehavior.GuardInstall => "MADV_GUARD_INSTALL",
        MadviseBehavior.GuardRemove => "MADV_GUARD_REMOVE",
        _ => $"MADV_{behavior.ToString().ToUpperInvariant()}",
    };
}

/// <summary>mm/madvise.c: advice about a range, some of which changes VMAs.</summary>
public partial interface Linux
{
    /// <summary>do_madvise(), mm/madvise.c, v6.4, for a range that is one whole VMA, and MADV_DONTNEED or MADV_DONTFORK (the behaviours its scenarios use).</summary>
    int DoMadvise(MmStruct mm, ulong start, MadviseBehavior behavior)
    {
        using var fn = this.World.Enter("do_madvise", $"{VmAreaStruct.Hex(start)}, {behavior.KernelName()}");
        var write = this.MadviseNeedMmapWrite(behavior);
        if (write)
        {
            this.MmapWriteLock(mm);
        }
        else
        {
            this.MmapReadLock(mm);
        }

        var vma = mm.MmMt.FindVma(start);
        var error = vma is null || vma.VmStart.ReadOnce() > start ? -Errno.ENOMEM : 0;
        if (error == 0 && behavior == MadviseBehavior.DontFork)
        {
            // madvise_behavior() → madvise_update_vma(): vm_flags change under the VMA write lock.
            this.VmaStartWrite(vma!);
            this.VmFlagsReset(vma!, vma!.VmFlags.ReadOnce() | (ulong)VmFlags.DontCopy);
        }
        else if (error == 0)
        {
            this.ZapPageRangeSingle(vma!.VmMm, vma.VmStart.ReadOnce(), vma.VmEnd.ReadOnce());
        }

        if (write)
        {
            this.MmapWriteUnlock(mm);
        }
        else
        {
            this.MmapReadUnlock(mm);
        }

        return fn.Returns(error);
    }

    /// <summary>madvise_need_mmap_write(), mm/madvise.c, v6.4: which behaviours change VMAs and need mmap_lock for write.</summary>
    bool MadviseNeedMmapWrite(MadviseBehavior behavior) => behavior switch
    {
        MadviseBehavior.DontNeed => false,
        _ => true,
    };
}
