using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Implementation.Port;

/// <summary>include/linux/mm.h: the vm_flags setters (the per-VMA lock's functions of mm.h are in mm/mmap_lock.cs).</summary>
public partial interface Linux
{
    /// <summary>vm_flags_reset(), include/linux/mm.h, v6.4: asserts the VMA write lock, then stores.</summary>
    void VmFlagsReset(VmAreaStruct vma, ulong flags)
    {
        this.VmaAssertWriteLocked(vma);
        vma.VmFlags.WriteOnce(flags);
    }
}
