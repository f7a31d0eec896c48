namespace VmaLockVerify.Implementation.Memory;

/// <summary>
/// The ordering a kernel access asks for. Every access in the port carries one, so a weaker
/// memory model than sequential consistency can later be plugged in (see <see cref="IMemoryModel"/>)
/// without touching the port.
/// </summary>
public enum MemoryOrder
{
    /// <summary>A plain C access (the compiler may tear, fuse or reorder it): <c>vma->vm_lock_seq</c> in v6.4.</summary>
    Plain,

    /// <summary>READ_ONCE / WRITE_ONCE, rcu_dereference: no tearing, no ordering.</summary>
    Once,

    /// <summary>
    /// rcu_dereference: READ_ONCE whose value is a pointer the later loads go through (LKMM
    /// <c>addr</c> dependency). Sequential consistency treats it as <see cref="Once"/>.
    /// </summary>
    Consume,

    /// <summary>atomic_*_relaxed: atomic, unordered.</summary>
    Relaxed,

    /// <summary>smp_load_acquire, atomic_*_acquire.</summary>
    Acquire,

    /// <summary>smp_store_release, rcu_assign_pointer, atomic_*_release.</summary>
    Release,

    /// <summary>Value-returning atomics without suffix (atomic_add_return, cmpxchg): fully ordered.</summary>
    Full,
}

/// <summary>What an access does to its location.</summary>
public enum AccessKind
{
    Load,
    Store,
    ReadModifyWrite,
}
