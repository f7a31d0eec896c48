using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>
/// Generation "7.0", mm/mprotect.c: do_mprotect_pkey() as v7.0 has it computes each VMA's new
/// flags from the protection asked for and the flags the VMA has (<c>newflags |= vma->vm_flags &amp;
/// ~mask_off_old_flags</c>), under mmap_lock held for write but before mprotect_fixup()
/// write-locks the VMA; mprotect_fixup() then stores them with vm_flags_reset_once(). Since
/// v6.19 a reader may set a bit of vm_flags in that window (VM_MAYBE_GUARD, by MADV_GUARD_INSTALL
/// under the VMA read lock), and the store drops it. Read from a stored v7.0.0 tree's
/// mm/mprotect.c.
/// <para>
/// Not modelled: pkeys (arch_override_mprotect_pkey(), calc_vm_prot_bits()'s key bits),
/// READ_IMPLIES_EXEC, PROT_GROWSDOWN/PROT_GROWSUP, map_deny_write_exec(), arch_validate_flags(),
/// the LSM hook, vm_ops->mprotect, ranges over more than one VMA (the port mprotects one whole
/// VMA), and mprotect_fixup()'s accounting, merge or split (vma_modify_flags()), and its
/// change_protection(); mprotect_fixup() keeps the port's body (write lock, vm_flags_reset()).
/// </para>
/// </summary>
public partial interface Linux7_0
{
    /// <summary>VM_ACCESS_FLAGS, include/linux/mm.h: VM_READ | VM_WRITE | VM_EXEC.</summary>
    const ulong VmAccessFlags = (ulong)(VmFlags.Read | VmFlags.Write | VmFlags.Exec);

    /// <summary>
    /// do_mprotect_pkey(), mm/mprotect.c (v7.0), for a range that is one whole VMA: the access bits
    /// of <paramref name="newFlags"/> are what calc_vm_prot_bits() makes of the protection asked
    /// for; every other bit comes from the VMA's vm_flags, read (plainly) before the VMA is
    /// write-locked. VM_FLAGS_CLEAR (pkey and arch bits) has none of the port's flags.
    /// </summary>
    int Linux.DoMprotectPkey(MmStruct mm, ulong start, VmFlags newFlags, bool killable)
    {
        using var fn = this.World.Enter("do_mprotect_pkey", $"{VmAreaStruct.Hex(start)}, {VmFlagsFormat.Describe((ulong)newFlags)}");
        this.MmapWriteLock(mm);
        var vma = mm.MmMt.FindVma(start);
        var error = vma is null || vma.VmStart.ReadOnce() > start ? -Errno.ENOMEM : 0;
        if (error == 0)
        {
            const ulong MaskOffOldFlags = VmAccessFlags; // VM_ACCESS_FLAGS | VM_FLAGS_CLEAR
            var newflags = (ulong)newFlags & VmAccessFlags; // calc_vm_prot_bits(prot, new_vma_pkey)
            newflags |= vma!.VmFlags.Plain() & ~MaskOffOldFlags;
            error = this.MprotectFixup(vma, (VmFlags)newflags, killable);
        }

        this.MmapWriteUnlock(mm);
        return fn.Returns(error);
    }
}
