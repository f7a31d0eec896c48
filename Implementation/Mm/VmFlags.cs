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
            if (flag != VmFlags.None && (flags & (ulong)flag) != 0)
            {
                names.Add("VM_" + flag switch
                {
                    VmFlags.MayRead => "MAYREAD",
                    VmFlags.MayWrite => "MAYWRITE",
                    VmFlags.GrowsDown => "GROWSDOWN",
                    VmFlags.UffdMissing => "UFFD_MISSING",
                    VmFlags.DontCopy => "DONTCOPY",
                    _ => flag.ToString().ToUpperInvariant(),
                });
            }
        }

        return string.Join("|", names);
    }
}
