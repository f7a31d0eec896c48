using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Port;

/// <summary>
/// mm/mmap_lock.c and include/linux/mmap_lock.h: the mmap_lock wrappers and the per-VMA lock. At
/// v6.4 the per-VMA lock's functions (vma_start_read() to vma_mark_detached()) are in
/// include/linux/mm.h; from v6.15 in include/linux/mmap_lock.h and mm/mmap_lock.c. Ported here:
/// v6.4's, with its rw_semaphore per VMA (vma->vm_lock), a plain vm_lock_seq, and WRITE_ONCE /
/// READ_ONCE of mm->mm_lock_seq.
/// </summary>
public partial interface Linux
{
    /// <summary>mmap_read_lock(), include/linux/mmap_lock.h, v6.4.</summary>
    void MmapReadLock(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_read_lock", mm.Name);
        mm.MmapLock.DownRead();
        this.World.Emit(new MmapLockAcquired(this.Thread, mm.Name, LockMode.Read));
    }

    /// <summary>
    /// mmap_read_lock_killable(), include/linux/mmap_lock.h, v6.4: down_read_killable(), 0 or
    /// -EINTR. No fatal signal is ever sent to the port's readers, so the wait always ends with
    /// the lock (0).
    /// </summary>
    int MmapReadLockKillable(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_read_lock_killable", mm.Name);
        mm.MmapLock.DownRead();
        this.World.Emit(new MmapLockAcquired(this.Thread, mm.Name, LockMode.Read));
        return fn.Returns(0);
    }

    /// <summary>mmap_read_trylock(), include/linux/mmap_lock.h, v6.4.</summary>
    bool MmapReadTrylock(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_read_trylock", mm.Name);
        if (!mm.MmapLock.DownReadTrylock())
        {
            return fn.Returns(false);
        }

        this.World.Emit(new MmapLockAcquired(this.Thread, mm.Name, LockMode.Read));
        return fn.Returns(true);
    }

    /// <summary>mmap_read_unlock(), include/linux/mmap_lock.h, v6.4.</summary>
    void MmapReadUnlock(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_read_unlock", mm.Name);
        this.World.Emit(new MmapLockReleased(this.Thread, mm.Name, LockMode.Read));
        mm.MmapLock.UpRead();
    }

    /// <summary>mmap_write_lock(), include/linux/mmap_lock.h, v6.4.</summary>
    void MmapWriteLock(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_write_lock", mm.Name);
        mm.MmapLock.DownWrite();
        this.World.Emit(new MmapLockAcquired(this.Thread, mm.Name, LockMode.Write));
    }

    /// <summary>mmap_write_unlock(), include/linux/mmap_lock.h, v6.4: vma_end_write_all(), then up_write().</summary>
    void MmapWriteUnlock(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_write_unlock", mm.Name);
        this.VmaEndWriteAll(mm);
        this.World.Emit(new MmapLockReleased(this.Thread, mm.Name, LockMode.Write));
        mm.MmapLock.UpWrite();
    }

    /// <summary>mmap_write_downgrade(), include/linux/mmap_lock.h, v6.4: vma_end_write_all(), then downgrade_write().</summary>
    void MmapWriteDowngrade(MmStruct mm)
    {
        using var fn = this.World.Enter("mmap_write_downgrade", mm.Name);
        this.VmaEndWriteAll(mm);

        // Reported before downgrade_write(): readers it wakes may run before it returns.
        this.World.Emit(new MmapLockDowngraded(this.Thread, mm.Name));
        mm.MmapLock.DowngradeWrite();
    }

    /// <summary>
    /// mmap_assert_locked(), include/linux/mmap_lock.h, v6.4, as built without lockdep:
    /// VM_BUG_ON_MM(!rwsem_is_locked(&amp;mm->mmap_lock)), read or write.
    /// </summary>
    void MmapAssertLocked(MmStruct mm) =>
        this.World.VmBugOn(!mm.MmapLock.IsLocked(), $"VM_BUG_ON_MM(!rwsem_is_locked(&{mm.Name}->mmap_lock))");

    /// <summary>
    /// mmap_assert_write_locked(), include/linux/mmap_lock.h, v6.4, as built without lockdep
    /// (CONFIG_LOCKDEP=n, CONFIG_DEBUG_VM=y): VM_BUG_ON_MM(!rwsem_is_locked(&amp;mm->mmap_lock)).
    /// It cannot tell a read hold from a write hold, nor whose hold it is.
    /// </summary>
    void MmapAssertWriteLocked(MmStruct mm) =>
        this.World.VmBugOn(!mm.MmapLock.IsLocked(), $"VM_BUG_ON_MM(!rwsem_is_locked(&{mm.Name}->mmap_lock))");

    /// <summary>
    /// vma_end_write_all(), include/linux/mmap_lock.h, v6.4: <c>WRITE_ONCE(mm->mm_lock_seq,
    /// mm->mm_lock_seq + 1)</c>, which releases every VMA write lock of the mm at once. No race on
    /// the plain read: mmap_lock is held for write.
    /// </summary>
    void VmaEndWriteAll(MmStruct mm)
    {
        using var fn = this.World.Enter("vma_end_write_all", mm.Name);
        this.MmapAssertWriteLocked(mm);
        var next = mm.MmLockSeq.Plain() + 1;
        mm.MmLockSeq.WriteOnce(next);
        this.MmSequenceBumped(mm, next);
    }

    /// <summary>
    /// vma_start_read(), include/linux/mm.h, v6.4: try to read-lock the VMA. It may fail
    /// spuriously (the caller falls back to mmap_lock); it never succeeds on a write-locked VMA.
    /// </summary>
    bool VmaStartRead(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_read", vma.Name);

        // Check before locking. A race might cause false locked result.
        if (vma.VmLockSeq.Plain() == vma.VmMm.MmLockSeq.ReadOnce())
        {
            return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
        }

        if (!vma.VmLock.DownReadTrylock())
        {
            return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
        }

        // A wrapped counter can only make the VMA look locked when it is not, never the other way
        // round: vm_lock_seq is set and compared with vm_lock held, and every bump of mm_lock_seq
        // drops all the marks at once.
        if (vma.VmLockSeq.Plain() == vma.VmMm.MmLockSeq.ReadOnce())
        {
            vma.VmLock.UpRead();
            return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
        }

        return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, true));
    }

    /// <summary>vma_end_read(), include/linux/mm.h, v6.4: RCU keeps the VMA alive until the end of up_read().</summary>
    void VmaEndRead(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_end_read", vma.Name);
        this.World.Emit(new VmaReadUnlocked(this.Thread, vma.VmMm.Name, vma.Name));
        this.World.Rcu.ReadLock(); // keeps vma alive till the end of up_read
        vma.VmLock.UpRead();
        this.World.Rcu.ReadUnlock();
    }

    /// <summary>
    /// vma_start_read_locked(), include/linux/mm.h, v6.13 (the rw_semaphore form, also v6.14):
    /// with mmap_lock held no writer can mark the VMA, so down_read() needs no sequence check.
    /// </summary>
    bool VmaStartReadLocked(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_read_locked", vma.Name);
        this.World.VmBugOn(!vma.VmMm.MmapLock.IsLocked(), $"mmap_assert_locked({vma.VmMm.Name})");
        vma.VmLock.DownRead();
        return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, true));
    }

    /// <summary>
    /// __is_vma_write_locked(), include/linux/mm.h, v6.4. WARNING! Can only be used if mmap_lock
    /// is expected to be write-locked: then neither vma->vm_lock_seq nor mm->mm_lock_seq can be
    /// concurrently modified.
    /// </summary>
    bool __IsVmaWriteLocked(VmAreaStruct vma, out int mmLockSeq)
    {
        this.MmapAssertWriteLocked(vma.VmMm);
        mmLockSeq = vma.VmMm.MmLockSeq.Plain();
        return vma.VmLockSeq.Plain() == mmLockSeq;
    }

    /// <summary>
    /// vma_start_write(), include/linux/mm.h, v6.4: write-lock the VMA for the rest of this
    /// mmap-write section. down_write() waits for the current readers to leave; vm_lock is held
    /// only while vm_lock_seq is set.
    /// </summary>
    void VmaStartWrite(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_write", vma.Name);
        if (this.__IsVmaWriteLocked(vma, out var mmLockSeq))
        {
            this.VmaStartWriteReturned(vma, wasAlreadyMarked: true);
            return;
        }

        vma.VmLock.DownWrite();
        vma.VmLockSeq.SetPlain(mmLockSeq);
        this.VmaWriteMarked(vma, mmLockSeq);
        vma.VmLock.UpWrite();
        this.VmaStartWriteReturned(vma, wasAlreadyMarked: false);
    }

    /// <summary>
    /// vma_start_write_killable() (v6.19): as vma_start_write(), but a fatal signal may end the
    /// wait for readers; returns 0, or -EINTR with the VMA not write-locked. Before v6.19 there is
    /// no such function: the port's callers of it (mprotect's killable form) take
    /// vma_start_write(), which cannot be interrupted.
    /// </summary>
    int VmaStartWriteKillable(VmAreaStruct vma)
    {
        this.VmaStartWrite(vma);
        return 0;
    }

    /// <summary>vma_assert_write_locked(), include/linux/mm.h, v6.4.</summary>
    void VmaAssertWriteLocked(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_assert_write_locked", vma.Name);
        this.World.VmBugOn(!this.__IsVmaWriteLocked(vma, out _), $"VM_BUG_ON_VMA(!__is_vma_write_locked({vma.Name}))");
    }

    /// <summary>vma_mark_detached(), include/linux/mm.h, v6.4: when detaching, the VMA must be write-locked.</summary>
    void VmaMarkDetached(VmAreaStruct vma, bool detached)
    {
        using var fn = this.World.Enter("vma_mark_detached", $"{vma.Name}, {(detached ? "true" : "false")}");

        // When detaching vma should be write-locked.
        if (detached)
        {
            this.VmaAssertWriteLocked(vma);
        }

        vma.Detached.SetPlain(detached);
        this.World.Emit(new VmaDetachedChanged(this.Thread, vma.VmMm.Name, vma.Name, detached));
    }

    /// <summary>
    /// vma_mark_attached(), include/linux/mmap_lock.h, v6.15. Before v6.15 there is no such
    /// function: vma_init() leaves a VMA attached (<c>vma_mark_detached(vma, false)</c>), so a new
    /// VMA needs nothing more before it is inserted.
    /// </summary>
    void VmaMarkAttached(VmAreaStruct vma)
    {
    }

    /// <summary>What vma_start_read() decided for a reader of <paramref name="mm"/>, reported to the monitors; passed through.</summary>
    protected sealed bool VmaStartReadReturned(MmStruct mm, VmAreaStruct vma, bool locked)
    {
        this.World.Emit(new VmaStartReadReturned(this.Thread, mm.Name, vma.Name, locked));
        return locked;
    }

    /// <summary>
    /// A lookup starts over (the -EAGAIN retry of lock_vma_under_rcu() and lock_next_vma()) because
    /// the VMA it found is no longer attached. Reported to the monitors.
    /// </summary>
    protected sealed void VmaLookupRetried(MmStruct mm, VmAreaStruct vma) =>
        this.World.Emit(new VmaLookupRetried(this.Thread, mm.Name, vma.Name, this.World.Current.FunctionName));

    /// <summary>vm_lock_seq has just been set to <paramref name="mmLockSeq"/>: from now on new readers fail. Reported to the monitors.</summary>
    protected sealed void VmaWriteMarked(VmAreaStruct vma, int mmLockSeq) =>
        this.World.Emit(new VmaWriteMarked(this.Thread, vma.VmMm.Name, vma.Name, mmLockSeq));

    /// <summary>vma_start_write() is returning, the VMA write-locked (already, or now). Reported to the monitors.</summary>
    protected sealed void VmaStartWriteReturned(VmAreaStruct vma, bool wasAlreadyMarked) =>
        this.World.Emit(new VmaStartWriteReturned(this.Thread, vma.VmMm.Name, vma.Name, wasAlreadyMarked));

    /// <summary>mm_lock_seq has just been stored as <paramref name="next"/>. Reported to the monitors.</summary>
    protected sealed void MmSequenceBumped(MmStruct mm, int next) =>
        this.World.Emit(new MmSequenceBumped(this.Thread, mm.Name, next));
}
