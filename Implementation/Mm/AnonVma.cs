using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>struct anon_vma (mm/rmap.c): the reverse-map root shared by mergeable anonymous VMAs.</summary>
public sealed class AnonVma(KernelWorld world, string name) : KernelObject(world, name);

/// <summary>
/// struct address_space (include/linux/fs.h) of a mapped file, reduced to i_mmap_rwsem: the lock
/// that protects the file's tree of mapping VMAs (i_mmap), taken for write to link or unlink one.
/// </summary>
public sealed class AddressSpace : KernelObject
{
    public AddressSpace(KernelWorld world, string name)
        : base(world, name)
    {
        this.IMmapRwsem = new Locking.RwSemaphore(world, $"{name}->i_mmap_rwsem");
    }

    /// <summary>mapping->i_mmap_rwsem.</summary>
    public Locking.RwSemaphore IMmapRwsem { get; }
}
