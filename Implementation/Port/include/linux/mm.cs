using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Implementation.Port;

/// <summary>include/linux/mm.h: the vm_flags setters and the VMA iterator (the per-VMA lock's functions of mm.h are in mm/mmap_lock.cs).</summary>
public partial interface Linux
{
    /// <summary>vma_iter_init(), include/linux/mm.h, v6.4: mas_init() of the iterator's ma_state at <paramref name="address"/> (MAS_START).</summary>
    void VmaIterInit(VmaIterator vmi, ulong address)
    {
        using var fn = this.World.Enter("vma_iter_init", $"&vmi, {VmAreaStruct.Hex(address)}");
        vmi.Mas.Reset(address);
    }

    /// <summary>vma_iter_set(), include/linux/mm.h, v6.4: mas_set(&amp;vmi->mas, addr), back to MAS_START at <paramref name="address"/>.</summary>
    void VmaIterSet(VmaIterator vmi, ulong address)
    {
        using var fn = this.World.Enter("vma_iter_set", $"&vmi, {VmAreaStruct.Hex(address)}");
        vmi.Mas.Reset(address);
    }

    /// <summary>vma_next(), include/linux/mm.h, v6.4: mas_find(&amp;vmi->mas, ULONG_MAX), the next VMA from the iterator's position.</summary>
    VmAreaStruct? VmaNext(VmaIterator vmi) => vmi.Mas.Tree.MasFind(vmi.Mas);

    /// <summary>vm_flags_set(), include/linux/mm.h, v6.4: write-locks the VMA (vma_start_write()), then ORs the bits in with a plain read-modify-write.</summary>
    void VmFlagsSet(VmAreaStruct vma, ulong flags)
    {
        this.VmaStartWrite(vma);
        vma.VmFlags.SetPlain(vma.VmFlags.Plain() | flags);
    }

    /// <summary>vm_flags_reset(), include/linux/mm.h, v6.4: asserts the VMA write lock, then stores.</summary>
    void VmFlagsReset(VmAreaStruct vma, ulong flags)
    {
        this.VmaAssertWriteLocked(vma);
        vma.VmFlags.WriteOnce(flags);
    }
}
