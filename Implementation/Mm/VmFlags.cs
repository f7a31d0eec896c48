namespace VmaLockVerify.Implementation.Mm;

/// <summary>vm_flags bits used by the port (include/linux/mm.h).</summary>
[Flags]
public enum VmFlags : ulong
{
    None = 0,
    Read = 0x1,
    Write = 0x2,
    Exec = 0x4,
    Shared = 0x8,
    MayRead = 0x10,
    MayWrite = 0x20,
    GrowsDown = 0x100,

    /// <summary>VM_DONTCOPY: not inherited by fork (madvise MADV_DONTFORK).</summary>
    DontCopy = 0x20000,

    /// <summary>VM_UFFD_MISSING: userfaultfd armed (lock_vma_under_rcu gives up on it).</summary>
    UffdMissing = 0x200,

    /// <summary>VM_PFNMAP: page ranges without struct page (part of VM_SPECIAL).</summary>
    PfnMap = 0x400,

    /// <summary>
    /// VM_MAYBE_GUARD (VMA_MAYBE_GUARD_BIT, bit 11, v6.19+): the VMA may hold guard regions
    /// (MADV_GUARD_INSTALL). The one flag of VM_ATOMIC_SET_ALLOWED: vma_set_atomic_flag() sets it
    /// with set_bit() under a VMA or mmap read lock. Sticky on merge (VM_STICKY).
    /// </summary>
    MaybeGuard = 0x800,

    /// <summary>VM_LOCKED: mlock()ed.</summary>
    Locked = 0x2000,

    /// <summary>VM_IO: memory-mapped I/O (part of VM_SPECIAL).</summary>
    Io = 0x4000,

    /// <summary>VM_DONTEXPAND: mremap() may not grow it (part of VM_SPECIAL).</summary>
    DontExpand = 0x40000,

    /// <summary>VM_HUGETLB: a hugetlbfs mapping.</summary>
    HugeTlb = 0x400000,

    /// <summary>VM_MIXEDMAP: struct pages and pure PFNs (part of VM_SPECIAL).</summary>
    MixedMap = 0x10000000,

    /// <summary>VM_SEALED (bit 63, v6.10+ on 64-bit): mseal(2)ed; the mapping may no longer be changed or unmapped.</summary>
    Sealed = 1UL << 63,

    /// <summary>VM_SPECIAL: VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP, the unmergeable, un-mlockable mappings.</summary>
    Special = Io | DontExpand | PfnMap | MixedMap,
}

/// <summary>Kernel spelling of vm_flags values.</summary>
public static class VmFlagsFormat
{
    /// <summary>
    /// vm_get_page_prot(), mm/mmap.c with x86's protection_map: the page protection of a VMA's
    /// PTEs, named as the kernel names it. A private writable mapping maps pages read-only
    /// (PAGE_COPY) until a write breaks copy-on-write; only shared ones get PAGE_SHARED.
    /// </summary>
    public static string PageProt(ulong flags)
    {
        var exec = (flags & (ulong)VmFlags.Exec) != 0 ? "_EXEC" : string.Empty;
        if ((flags & (ulong)VmFlags.Write) != 0)
        {
            return ((flags & (ulong)VmFlags.Shared) != 0 ? "PAGE_SHARED" : "PAGE_COPY") + exec;
        }

        return (flags & (ulong)(VmFlags.Read | VmFlags.Exec)) != 0 ? "PAGE_READONLY" + exec : "PAGE_NONE";
    }

    public static string Describe(ulong flags)
    {
        if (flags == 0)
        {
            return "0";
        }

        var names = new List<string>();
        foreach (var flag in Enum.GetValues<VmFlags>())
        {
            if (flag is not VmFlags.None and not VmFlags.Special && (flags & (ulong)flag) != 0)
            {
                names.Add("VM_" + flag switch
                {
                    VmFlags.MayRead => "MAYREAD",
                    VmFlags.MayWrite => "MAYWRITE",
                    VmFlags.GrowsDown => "GROWSDOWN",
                    VmFlags.UffdMissing => "UFFD_MISSING",
                    VmFlags.DontCopy => "DONTCOPY",
                    VmFlags.MaybeGuard => "MAYBE_GUARD",
                    _ => flag.ToString().ToUpperInvariant(),
                });
            }
        }

        return string.Join("|", names);
    }
}
