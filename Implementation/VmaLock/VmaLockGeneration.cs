using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.VmaLock;

/// <summary>
/// One protocol generation of the per-VMA lock: the functions of include/linux/mmap_lock.h,
/// include/linux/mm.h and mm/memory.c that differ between kernel versions. Callers (the fault
/// path, the writers) use only these methods, so a new generation (6.14's seqcount, 6.15's
/// reference count) is a new subclass registered in <see cref="Generations"/>, with no change to
/// its callers. The mmap_lock wrappers here are v6.4's; a generation overrides what it changes.
/// </summary>
public abstract class VmaLockGeneration(KernelWorld world)
{
    protected KernelWorld World { get; } = world;

    /// <summary>The generation's name, as the command line spells it ("6.4").</summary>
    public abstract string Name { get; }

    /// <summary>Creates a VMA with its lock initialised (vm_area_alloc + vma_init + vma_lock_alloc).</summary>
    public virtual VmAreaStruct VmAreaAlloc(MmStruct mm, string name, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, AddressSpace? file = null) =>
        new(this.World, mm, name, start, end, flags, anonVma, file: file);

    /// <summary>Puts a VMA made at boot into its mm's tree (before any thread runs: no scheduling points).</summary>
    public virtual void InstallAtSetup(MmStruct mm, VmAreaStruct vma) => mm.MmMt.Populate(vma);

    /// <summary>Whether a new VMA must be write-locked before it is inserted (v6.15: vma_mark_attached asserts it).</summary>
    public virtual bool LocksNewVmaBeforeInsert => false;

    /// <summary>
    /// Whether a fault holding only the VMA lock that needs a first anon_vma retries under
    /// mmap_lock (vmf_anon_prepare(), v6.7) instead of calling anon_vma_prepare() (v6.4-v6.6).
    /// </summary>
    public virtual bool AnonVmaPrepareRetriesUnderVmaLock => false;

    /// <summary>vm_area_free(): frees the VMA after an RCU grace period.</summary>
    public abstract void VmAreaFree(VmAreaStruct vma);

    /// <summary>vma_end_read(): drop the VMA read lock.</summary>
    public abstract void VmaEndRead(VmAreaStruct vma);

    /// <summary>
    /// vma_start_read_locked(): read-lock the VMA while holding mmap_lock for read (no writer can
    /// be marking it); fails only on reader-count overflow.
    /// </summary>
    public abstract bool VmaStartReadLocked(VmAreaStruct vma);

    /// <summary>vma_start_write(): write-lock the VMA for the rest of this mmap-write section.</summary>
    public abstract void VmaStartWrite(VmAreaStruct vma);

    /// <summary>
    /// vma_start_write_killable() (v6.19): as vma_start_write, but the wait for readers can be
    /// interrupted by a fatal signal; returns 0, or -EINTR with the VMA not write-locked.
    /// Generations before 6.19 never interrupt it.
    /// </summary>
    public virtual int VmaStartWriteKillable(VmAreaStruct vma)
    {
        this.VmaStartWrite(vma);
        return 0;
    }

    /// <summary>vma_mark_attached(): a new VMA becomes attached as it is inserted (v6.15); earlier VMAs are born attached.</summary>
    public virtual void VmaMarkAttached(VmAreaStruct vma)
    {
    }

    /// <summary>vma_end_write_all(): release every VMA write lock of the mm.</summary>
    public abstract void VmaEndWriteAll(MmStruct mm);

    /// <summary>vma_assert_write_locked().</summary>
    public abstract void VmaAssertWriteLocked(VmAreaStruct vma);

    /// <summary>vma_mark_detached(vma, detached).</summary>
    public abstract void VmaMarkDetached(VmAreaStruct vma, bool detached);

    /// <summary>lock_vma_under_rcu(): find and read-lock the VMA covering the address, or NULL.</summary>
    public abstract VmAreaStruct? LockVmaUnderRcu(MmStruct mm, ulong address);

    /// <summary>mmap_read_lock(), include/linux/mmap_lock.h, v6.4.</summary>
    public virtual void MmapReadLock(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_read_lock", mm.Name);
        mm.MmapLock.DownRead();
        this.World.Emit(new MmapLockAcquired(this.World.Current.Name, mm.Name, LockMode.Read));
    }

    /// <summary>mmap_read_trylock(), include/linux/mmap_lock.h, v6.4.</summary>
    public virtual bool MmapReadTrylock(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_read_trylock", mm.Name);
        if (!mm.MmapLock.DownReadTrylock())
        {
            return fn.Returns(false);
        }

        this.World.Emit(new MmapLockAcquired(this.World.Current.Name, mm.Name, LockMode.Read));
        return fn.Returns(true);
    }

    /// <summary>mmap_read_unlock(), include/linux/mmap_lock.h, v6.4.</summary>
    public virtual void MmapReadUnlock(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_read_unlock", mm.Name);
        this.World.Emit(new MmapLockReleased(this.World.Current.Name, mm.Name, LockMode.Read));
        mm.MmapLock.UpRead();
    }

    /// <summary>mmap_write_lock(), include/linux/mmap_lock.h, v6.4.</summary>
    public virtual void MmapWriteLock(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_write_lock", mm.Name);
        mm.MmapLock.DownWrite();
        this.World.Emit(new MmapLockAcquired(this.World.Current.Name, mm.Name, LockMode.Write));
        this.MmapWriteLocked(mm);
    }

    /// <summary>What mmap_write_lock() does once it holds the lock (from v6.14: mm_lock_seqcount_begin()).</summary>
    protected virtual void MmapWriteLocked(MmStruct mm)
    {
    }

    /// <summary>mmap_write_unlock(), include/linux/mmap_lock.h, v6.4: vma_end_write_all, then up_write.</summary>
    public virtual void MmapWriteUnlock(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_write_unlock", mm.Name);
        this.VmaEndWriteAll(mm);
        this.World.Emit(new MmapLockReleased(this.World.Current.Name, mm.Name, LockMode.Write));
        mm.MmapLock.UpWrite();
    }

    /// <summary>mmap_write_downgrade(), include/linux/mmap_lock.h, v6.4: vma_end_write_all, then downgrade_write.</summary>
    public virtual void MmapWriteDowngrade(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_write_downgrade", mm.Name);
        this.VmaEndWriteAll(mm);

        // Reported before downgrade_write(): readers it wakes may run before it returns.
        this.World.Emit(new MmapLockDowngraded(this.World.Current.Name, mm.Name));
        mm.MmapLock.DowngradeWrite();
    }

    /// <summary>
    /// mmap_assert_write_locked(), include/linux/mmap_lock.h, v6.4, as built without lockdep
    /// (CONFIG_LOCKDEP=n, CONFIG_DEBUG_VM=y): VM_BUG_ON_MM(!rwsem_is_locked(&amp;mm->mmap_lock)).
    /// It cannot tell a read hold from a write hold, nor whose hold it is.
    /// </summary>
    public virtual void MmapAssertWriteLocked(MmStruct mm) =>
        this.World.VmBugOn(!mm.MmapLock.IsLocked(), $"VM_BUG_ON_MM(!rwsem_is_locked(&{mm.Name}->mmap_lock))");
}
