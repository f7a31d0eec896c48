using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>
/// Generation "6.5": v6.4 with b1f02b95758d ("mm: fix memory ordering for mm_lock_seq and
/// vm_lock_seq", Jann Horn): vm_lock_seq is read and written with READ_ONCE/WRITE_ONCE,
/// vma_end_write_all() stores mm_lock_seq with smp_store_release(), and vma_start_read()'s
/// re-check loads it with smp_load_acquire(). Under sequential consistency it behaves as 6.4.
/// Changes: vma_start_read(), __is_vma_write_locked(), vma_start_write(), vma_end_write_all().
/// </summary>
public interface Linux6_5 : Linux
{
    /// <summary>
    /// vma_start_read(), include/linux/mm.h, v6.5 (v6.14 reads mm_lock_seq.sequence, and its
    /// re-check raw_read_seqcount(), the same acquire).
    /// </summary>
    bool Linux.VmaStartRead(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_read", vma.Name);

        // The early check, without the lock: it may only err towards "locked", so a plain
        // READ_ONCE of mm_lock_seq does; the load that must be ordered is the re-check below.
        if (vma.VmLockSeq.ReadOnce() == vma.VmMm.MmLockSeq.ReadOnce())
        {
            return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
        }

        if (!vma.VmLock.DownReadTrylock())
        {
            return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
        }

        // The re-check under vm_lock: a wrap can only give a false "locked". The acquire pairs
        // with vma_end_write_all()'s release, so a reader that sees the section ended also sees
        // everything the writer stored before it (b1f02b95758d).
        if (vma.VmLockSeq.Plain() == vma.VmMm.MmLockSeq.LoadAcquire())
        {
            vma.VmLock.UpRead();
            return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
        }

        return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, true));
    }

    /// <summary>__is_vma_write_locked(), include/linux/mm.h, v6.5: as v6.4, the port reading vm_lock_seq with READ_ONCE.</summary>
    bool Linux.__IsVmaWriteLocked(VmAreaStruct vma, out int mmLockSeq)
    {
        this.MmapAssertWriteLocked(vma.VmMm);

        // mmap_lock is held for write: neither sequence can change under us.
        mmLockSeq = vma.VmMm.MmLockSeq.Plain();
        return vma.VmLockSeq.ReadOnce() == mmLockSeq;
    }

    /// <summary>vma_start_write(), include/linux/mm.h, v6.5 (also v6.14).</summary>
    void Linux.VmaStartWrite(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_start_write", vma.Name);
        if (this.__IsVmaWriteLocked(vma, out var mmLockSeq))
        {
            this.VmaStartWriteReturned(vma, wasAlreadyMarked: true);
            return;
        }

        vma.VmLock.DownWrite();

        // WRITE_ONCE: vma_start_read()'s early check reads vm_lock_seq without the lock. Its
        // answer may be wrong anyway, but the access must not be a data race.
        vma.VmLockSeq.WriteOnce(mmLockSeq);
        this.VmaWriteMarked(vma, mmLockSeq);
        vma.VmLock.UpWrite();
        this.VmaStartWriteReturned(vma, wasAlreadyMarked: false);
    }

    /// <summary>
    /// vma_end_write_all(), include/linux/mmap_lock.h, v6.5: nobody can concurrently modify
    /// mm->mm_lock_seq due to exclusive mmap_lock; smp_store_release() pairs with the
    /// smp_load_acquire() in vma_start_read().
    /// </summary>
    void Linux.VmaEndWriteAll(MmStruct mm)
    {
        using var fn = this.World.Enter("vma_end_write_all", mm.Name);
        this.MmapAssertWriteLocked(mm);
        var next = mm.MmLockSeq.Plain() + 1;
        mm.MmLockSeq.StoreRelease(next);
        this.MmSequenceBumped(mm, next);
    }
}

/// <summary>The kernel of generation "6.5".</summary>
public sealed class V6_5(KernelWorld world) : Booted(world), Linux6_5;
