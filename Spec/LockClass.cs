namespace VmaLockVerify.Spec;

/// <summary>
/// A lockdep lock class: the key a lock's init site declares (init_rwsem() makes one static
/// lock_class_key per call site), so every lock made there is of that class. Named as the
/// port's traces and lockdep reports name it: the field the lock is.
/// </summary>
public readonly record struct LockClass(string Name)
{
    /// <summary>mm->mmap_lock (mmap_init_lock()).</summary>
    public static LockClass MmapLock { get; } = new("mmap_lock");

    /// <summary>vma->vm_lock (v6.4 to v6.14: vma_lock_alloc()'s init_rwsem()).</summary>
    public static LockClass VmLock { get; } = new("vm_lock");

    /// <summary>mapping->i_mmap_rwsem (address_space_init_once()).</summary>
    public static LockClass IMmapRwsem { get; } = new("i_mmap_rwsem");

    /// <summary>anon_vma->rwsem (anon_vma_ctor()).</summary>
    public static LockClass AnonVmaRwsem { get; } = new("rwsem");

    public override string ToString() => this.Name;
}
