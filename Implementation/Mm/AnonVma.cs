using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>
/// struct anon_vma (mm/rmap.c): the reverse-map root shared by mergeable anonymous VMAs, with its
/// rwsem (anon_vma_lock_write). Which VMAs are linked to it is kept on the VMA side
/// (<see cref="VmAreaStruct.AnonVmaChain"/>); its interval tree is not modelled: no path of the
/// port walks the reverse map.
/// </summary>
public sealed class AnonVma : KernelObject
{
    public AnonVma(KernelWorld world, string name)
        : base(world, name)
    {
        this.Rwsem = new Locking.RwSemaphore(world, $"{name}->rwsem", LockClass.AnonVmaRwsem);
    }

    /// <summary>anon_vma->rwsem (of the root anon_vma; every anon_vma of the port is a root).</summary>
    public Locking.RwSemaphore Rwsem { get; }
}

/// <summary>
/// struct address_space (include/linux/fs.h) of a mapped file, reduced to i_mmap_rwsem: the lock
/// that protects the file's tree of mapping VMAs (i_mmap), taken for write to link or unlink one.
/// </summary>
public sealed class AddressSpace : KernelObject
{
    public AddressSpace(KernelWorld world, string name)
        : base(world, name)
    {
        this.IMmapRwsem = new Locking.RwSemaphore(world, $"{name}->i_mmap_rwsem", LockClass.IMmapRwsem);
    }

    /// <summary>mapping->i_mmap_rwsem.</summary>
    public Locking.RwSemaphore IMmapRwsem { get; }
}
