using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>enum madvise_lock_mode, mm/madvise.c (v7.0): how madvise() holds the address space.</summary>
public enum MadviseLockMode
{
    /// <summary>MADVISE_NO_LOCK (memory-failure injection).</summary>
    NoLock,

    /// <summary>MADVISE_MMAP_READ_LOCK.</summary>
    MmapReadLock,

    /// <summary>MADVISE_MMAP_WRITE_LOCK: behaviours that change VMAs.</summary>
    MmapWriteLock,

    /// <summary>MADVISE_VMA_READ_LOCK: one VMA read-locked with lock_vma_under_rcu(), mmap_read_lock() as the fall-back.</summary>
    VmaReadLock,
}

/// <summary>
/// struct madvise_behavior, mm/madvise.c (v7.0): one madvise() call's state. The range is updated
/// to span each VMA as the walk goes; the TLB gather and the anon_vma name are not modelled.
/// </summary>
public sealed class MadvBehavior(MmStruct mm, MadviseBehavior behavior)
{
    public MmStruct Mm { get; } = mm;

    public MadviseBehavior Behavior { get; } = behavior;

    public MadviseLockMode LockMode { get; set; }

    /// <summary>range.start.</summary>
    public ulong Start { get; set; }

    /// <summary>range.end (exclusive).</summary>
    public ulong End { get; set; }

    /// <summary>The VMA currently targeted.</summary>
    public VmAreaStruct? Vma { get; set; }

    /// <summary>The behaviour dropped mmap_lock (never under the VMA lock).</summary>
    public bool LockDropped { get; set; }
}

/// <summary>
/// Generation "7.0", mm/madvise.c and include/linux/mm.h: madvise() as v7.0 has it for
/// MADV_GUARD_INSTALL, MADV_GUARD_REMOVE, MADV_DONTNEED and MADV_FREE, which take MADVISE_VMA_READ_LOCK (6.16's 'mm/madvise:
/// use per-VMA lock for MADV_DONTNEED and MADV_FREE', 6.19's guard regions under the VMA lock
/// with VM_MAYBE_GUARD set by vma_set_atomic_flag()). The range must lie in one VMA that
/// lock_vma_under_rcu() read-locks; otherwise the call falls back to mmap_read_lock() and walks
/// the VMAs as before. Read from the stored linux-mm snapshot of the v7.0 cycle (mm/madvise.c,
/// include/linux/mm.h).
/// <para>
/// The port keeps <see cref="Linux.DoMadvise(MmStruct, ulong, MadviseBehavior)"/> (v6.4's body,
/// a whole VMA) for fault-vs-two-writers's MADV_DONTFORK on every generation; v7.0's do_madvise()
/// here takes the length, and the behaviours that need mmap_lock for write are not ported
/// (mmap_write_lock_killable(), madvise_update_vma()). Not modelled: process_madvise() and its
/// remote mm, the TLB gather and block plug, mseal (can_madvise_modify()), hugetlb ranges,
/// userfaultfd_remove() (a uffd-armed VMA never gets here under the VMA lock, and the scenarios
/// arm none), untagged addresses.
/// </para>
/// </summary>
public partial interface Linux7_0
{
    /// <summary>
    /// anon_vma_name(), mm/madvise.c (v7.0): the name user space gave the VMA, readable by whoever
    /// holds the VMA steady (mmap_lock or a VMA lock: vma_assert_stabilised()). The port names no
    /// VMA (prctl(PR_SET_VMA_ANON_NAME) is not ported), so it is NULL.
    /// </summary>
    string? AnonVmaName(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("anon_vma_name", vma.Name);
        this.VmaAssertStabilised(vma);
        return fn.Returns<string?>(null); // vma->anon_name
    }

    /// <summary>MAX_MADVISE_GUARD_RETRIES, mm/madvise.c (v7.0): guard installs tried before -ERESTARTNOINTR.</summary>
    const int MaxMadviseGuardRetries = 3;

    /// <summary>
    /// do_madvise(), mm/madvise.c (v7.0): validate the behaviour and the range, take the lock its
    /// behaviour wants (madvise_lock()), apply it (madvise_do_behavior()), drop the lock. For
    /// MADVISE_VMA_READ_LOCK nothing is taken here: madvise_walk_vmas() read-locks the one VMA.
    /// </summary>
    int DoMadvise(MmStruct mm, ulong start, ulong lenIn, MadviseBehavior behavior)
    {
        using var fn = this.World.Enter("do_madvise", $"{VmAreaStruct.Hex(start)}, {VmAreaStruct.Hex(lenIn)}, {behavior.KernelName()}");
        var madvBehavior = new MadvBehavior(mm, behavior);
        if (!MadviseBehaviorValid(behavior))
        {
            return fn.Returns(-Errno.EINVAL);
        }

        var error = CheckInputRange(start, lenIn);
        if (error != 0 || lenIn == 0)
        {
            return fn.Returns(error);
        }

        error = this.MadviseLock(madvBehavior);
        if (error != 0)
        {
            return fn.Returns(error);
        }

        error = this.MadviseDoBehavior(start, lenIn, madvBehavior);
        this.MadviseUnlock(madvBehavior);
        return fn.Returns(error);
    }

    /// <summary>madvise_behavior_valid(), mm/madvise.c (v7.0), for the behaviours the port has.</summary>
    static bool MadviseBehaviorValid(MadviseBehavior behavior) =>
        behavior is MadviseBehavior.DontNeed or MadviseBehavior.Free or MadviseBehavior.GuardInstall or MadviseBehavior.GuardRemove;

    /// <summary>check_input_range(), mm/madvise.c (v7.0): page-aligned start, no wrap-around.</summary>
    static int CheckInputRange(ulong start, ulong lenIn)
    {
        if (start % PageTable.PageSize != 0)
        {
            return -Errno.EINVAL;
        }

        var len = PageAlign(lenIn);

        // Check to see whether len was rounded up from small -ve to zero.
        if (lenIn != 0 && len == 0)
        {
            return -Errno.EINVAL;
        }

        return start + len < start ? -Errno.EINVAL : 0;
    }

    /// <summary>PAGE_ALIGN().</summary>
    static ulong PageAlign(ulong len) => unchecked((len + PageTable.PageSize - 1) & ~(PageTable.PageSize - 1));

    /// <summary>get_lock_mode(), mm/madvise.c (v7.0): the guard and zap behaviours take a VMA read lock; the ones that change VMAs take mmap_lock for write.</summary>
    static MadviseLockMode GetLockMode(MadvBehavior madvBehavior) => madvBehavior.Behavior switch
    {
        MadviseBehavior.GuardInstall or MadviseBehavior.GuardRemove or MadviseBehavior.DontNeed or MadviseBehavior.Free => MadviseLockMode.VmaReadLock,
        _ => MadviseLockMode.MmapWriteLock,
    };

    /// <summary>madvise_lock(), mm/madvise.c (v7.0). The VMA read lock is taken per VMA, in madvise_walk_vmas().</summary>
    int MadviseLock(MadvBehavior madvBehavior)
    {
        var lockMode = GetLockMode(madvBehavior);
        switch (lockMode)
        {
            case MadviseLockMode.MmapWriteLock:
                throw new NotSupportedException("mmap_write_lock_killable() is not ported: no behaviour the port has needs it");
            case MadviseLockMode.MmapReadLock:
                this.MmapReadLock(madvBehavior.Mm);
                break;
        }

        madvBehavior.LockMode = lockMode;
        return 0;
    }

    /// <summary>madvise_unlock(), mm/madvise.c (v7.0): drop what madvise_lock() or the fall-back took.</summary>
    void MadviseUnlock(MadvBehavior madvBehavior)
    {
        if (madvBehavior.LockMode == MadviseLockMode.MmapReadLock)
        {
            this.MmapReadUnlock(madvBehavior.Mm);
        }

        madvBehavior.LockMode = MadviseLockMode.NoLock;
    }

    /// <summary>madvise_do_behavior(), mm/madvise.c (v7.0): set the range and walk the VMAs.</summary>
    int MadviseDoBehavior(ulong start, ulong lenIn, MadvBehavior madvBehavior)
    {
        madvBehavior.Start = start;
        madvBehavior.End = start + PageAlign(lenIn);
        return this.MadviseWalkVmas(madvBehavior);
    }

    /// <summary>
    /// madvise_walk_vmas(), mm/madvise.c (v7.0): under MADVISE_VMA_READ_LOCK, try the one VMA
    /// under its read lock; else (or after falling back to mmap_read_lock()) apply the behaviour to
    /// each VMA of the range, -ENOMEM for the holes. The VMA before the range (prev) is left out:
    /// only madvise_update_vma() needs it.
    /// </summary>
    int MadviseWalkVmas(MadvBehavior madvBehavior)
    {
        using var fn = this.World.Enter("madvise_walk_vmas", $"{VmAreaStruct.Hex(madvBehavior.Start)}, {VmAreaStruct.Hex(madvBehavior.End)}");
        var mm = madvBehavior.Mm;
        var lastEnd = madvBehavior.End;
        var unmappedError = 0;

        // If VMA read lock is supported, apply madvise to a single VMA tentatively.
        if (madvBehavior.LockMode == MadviseLockMode.VmaReadLock && this.TryVmaReadLock(madvBehavior))
        {
            var result = this.MadviseVmaBehavior(madvBehavior);
            this.VmaEndRead(madvBehavior.Vma!);
            return fn.Returns(result);
        }

        var vma = mm.MmMt.FindVma(madvBehavior.Start);
        while (true)
        {
            if (vma is null)
            {
                return fn.Returns(-Errno.ENOMEM);
            }

            if (madvBehavior.Start < vma.VmStart.Plain())
            {
                // A gap between VMAs in the range: -ENOMEM, but carry on.
                unmappedError = -Errno.ENOMEM;
                madvBehavior.Start = vma.VmStart.Plain();
                if (madvBehavior.Start >= lastEnd)
                {
                    break;
                }
            }

            madvBehavior.End = Math.Min(vma.VmEnd.Plain(), lastEnd);
            madvBehavior.Vma = vma;
            var error = this.MadviseVmaBehavior(madvBehavior);
            if (error != 0)
            {
                return fn.Returns(error);
            }

            if (madvBehavior.LockDropped)
            {
                // We dropped the mmap lock, we can't ref the VMA.
                vma = null;
                madvBehavior.LockDropped = false;
            }
            else
            {
                vma = madvBehavior.Vma;
            }

            if (vma is not null && madvBehavior.End < vma.VmEnd.Plain())
            {
                madvBehavior.End = vma.VmEnd.Plain();
            }

            if (madvBehavior.End >= lastEnd)
            {
                break;
            }

            vma = mm.MmMt.FindVma(vma is not null ? vma.VmEnd.Plain() : madvBehavior.End);
            madvBehavior.Start = madvBehavior.End;
        }

        return fn.Returns(unmappedError);
    }

    /// <summary>
    /// try_vma_read_lock(), mm/madvise.c (v7.0): read-lock the VMA at range.start with
    /// lock_vma_under_rcu(); if there is none, or it will not do, take mmap_read_lock() instead
    /// and switch to MADVISE_MMAP_READ_LOCK. Always returns with a lock held.
    /// </summary>
    bool TryVmaReadLock(MadvBehavior madvBehavior)
    {
        using var fn = this.World.Enter("try_vma_read_lock", VmAreaStruct.Hex(madvBehavior.Start));
        var vma = this.LockVmaUnderRcu(madvBehavior.Mm, madvBehavior.Start);
        if (vma is null)
        {
            return fn.Returns(this.TryVmaReadLockTakeMmapReadLock(madvBehavior));
        }

        if (!this.IsVmaLockSufficient(vma, madvBehavior))
        {
            this.VmaEndRead(vma);
            return fn.Returns(this.TryVmaReadLockTakeMmapReadLock(madvBehavior));
        }

        madvBehavior.Vma = vma;
        return fn.Returns(true);
    }

    /// <summary>try_vma_read_lock()'s take_mmap_read_lock: label (v7.0): the fall-back.</summary>
    bool TryVmaReadLockTakeMmapReadLock(MadvBehavior madvBehavior)
    {
        this.MmapReadLock(madvBehavior.Mm);
        madvBehavior.LockMode = MadviseLockMode.MmapReadLock;
        return false;
    }

    /// <summary>
    /// is_vma_lock_sufficient(), mm/madvise.c (v7.0): the VMA read lock will do when the range
    /// ends inside the VMA, the mm is the caller's own, userfaultfd is not armed on it, and an
    /// anonymous VMA that the behaviour gives an anon_vma (MADV_GUARD_INSTALL) already has one,
    /// since anon_vma_prepare() needs mmap_lock. (The stored text tests vma_anon_tracked(); the
    /// port's VMAs are tracked exactly when vma->anon_vma is set.)
    /// </summary>
    bool IsVmaLockSufficient(VmAreaStruct vma, MadvBehavior madvBehavior)
    {
        // Must span only a single VMA.
        if (madvBehavior.End > vma.VmEnd.Plain())
        {
            return false;
        }

        // Remote processes unsupported (current->mm is the mm madvise(2) was given).
        if (madvBehavior.Mm != vma.VmMm)
        {
            return false;
        }

        // Userfaultfd unsupported.
        if (UserfaultfdArmed(vma))
        {
            return false;
        }

        return !(vma.IsAnonymous && PreparesAnonVma(madvBehavior.Behavior) && vma.AnonVma.Plain() is null);
    }

    /// <summary>prepares_anon_vma(), mm/madvise.c (v7.0): the behaviours that call anon_vma_prepare().</summary>
    static bool PreparesAnonVma(MadviseBehavior behavior) => behavior == MadviseBehavior.GuardInstall;

    /// <summary>madvise_vma_behavior(), mm/madvise.c (v7.0), for the behaviours the port has (none of them changes the VMA).</summary>
    int MadviseVmaBehavior(MadvBehavior madvBehavior) => madvBehavior.Behavior switch
    {
        MadviseBehavior.Free or MadviseBehavior.DontNeed => this.MadviseDontneedFree(madvBehavior),
        MadviseBehavior.GuardInstall => this.MadviseGuardInstall(madvBehavior),
        MadviseBehavior.GuardRemove => this.MadviseGuardRemove(madvBehavior),
        _ => -Errno.EINVAL,
    };

    /// <summary>
    /// madvise_guard_install(), mm/madvise.c (v7.0): set VM_MAYBE_GUARD atomically under the read
    /// lock (merge and fork, which read it, take the write lock), give an anonymous VMA its
    /// anon_vma (only under mmap_read_lock: the VMA lock was refused without one), then walk the
    /// range: a populated page is zapped and the walk tried again, up to MAX_MADVISE_GUARD_RETRIES
    /// times, then -ERESTARTNOINTR. Reduced: the walk only reads the PTEs (walk_page_range_vma_unsafe()
    /// under the VMA lock, walk_page_range_mm_unsafe() under mmap_lock; THP PMDs and PUDs are not
    /// modelled) and the guard markers themselves (PTE_MARKER_GUARD) are not stored: a range found
    /// empty counts as guarded, and the monitors are told its markers are in place
    /// (GuardRegionInstalled), so they can hold every VMA that maps them to VM_MAYBE_GUARD.
    /// </summary>
    int MadviseGuardInstall(MadvBehavior madvBehavior)
    {
        var vma = madvBehavior.Vma!;
        using var fn = this.World.Enter("madvise_guard_install", $"{vma.Name}, {VmAreaStruct.Hex(madvBehavior.Start)}, {VmAreaStruct.Hex(madvBehavior.End)}");
        if (!IsValidGuardVma(vma, allowLocked: false))
        {
            return fn.Returns(-Errno.EINVAL);
        }

        // Set atomically under read lock: all pertinent readers take an mmap/VMA write lock to read it.
        this.VmaSetAtomicFlag(vma, VmFlags.MaybeGuard);

        // An anonymous VMA establishing page tables needs an anon_vma; mmap_lock is held if it has none.
        if (vma.IsAnonymous)
        {
            this.World.VmBugOn(vma.AnonVma.Plain() is null && madvBehavior.LockMode != MadviseLockMode.MmapReadLock, $"VM_WARN_ON_ONCE(!vma_anon_tracked({vma.Name}) && lock_mode != MADVISE_MMAP_READ_LOCK)");
            if (vma.AnonVma.ReadOnce() is null)
            {
                this.__AnonVmaPrepare(vma); // anon_vma_prepare()
            }
        }

        for (var i = 0; i < MaxMadviseGuardRetries; i++)
        {
            // guard_install_pte_entry(): a populated PTE asks for a zap (> 0).
            var populated = vma.VmMm.PageTable.Range(madvBehavior.Start, madvBehavior.End).Any(p => p.Pte.ReadOnce() is not null);
            if (!populated)
            {
                this.World.Emit(new GuardRegionInstalled(this.Thread, vma.VmMm.Name, vma.Name, madvBehavior.Start, madvBehavior.End));
                return fn.Returns(0);
            }

            // Some of the range has non-guard pages mapped: zap them.
            this.ZapPageRangeSingle(vma.VmMm, madvBehavior.Start, madvBehavior.End); // zap_vma_range()
        }

        // Unable to install the guard pages: return to userspace and retry at once.
        return fn.Returns(-Errno.ERESTARTNOINTR); // restart_syscall()
    }

    /// <summary>is_valid_guard_vma(), mm/madvise.c (v7.0): no VM_SPECIAL or hugetlb VMA, and no mlock()ed one unless allowed.</summary>
    static bool IsValidGuardVma(VmAreaStruct vma, bool allowLocked)
    {
        var disallowed = VmFlags.Special | VmFlags.HugeTlb;

        // Locking after setting a guard range is fine; zapping existing locked VMAs is not.
        if (!allowLocked)
        {
            disallowed |= VmFlags.Locked;
        }

        return (vma.VmFlags.Plain() & (ulong)disallowed) == 0;
    }

    /// <summary>
    /// vma_set_atomic_flag(), include/linux/mm.h (v7.0): set a VM_ATOMIC_SET_ALLOWED bit with
    /// set_bit(), which needs the VMA held stable only (vma_assert_stabilised(): mmap_lock, or
    /// a VMA lock), not written.
    /// </summary>
    void VmaSetAtomicFlag(VmAreaStruct vma, VmFlags bit)
    {
        using var fn = this.World.Enter("vma_set_atomic_flag", $"{vma.Name}, {VmFlagsFormat.Describe((ulong)bit)}");
        this.VmaAssertStabilised(vma);
        if (this.__VmaAtomicValidFlag(vma, bit))
        {
            vma.SetFlagAtomic(bit);
        }
    }

    /// <summary>__vma_atomic_valid_flag(), include/linux/mm.h (v7.0): only the bits of VM_ATOMIC_SET_ALLOWED (VM_MAYBE_GUARD), else WARN_ON_ONCE.</summary>
    bool __VmaAtomicValidFlag(VmAreaStruct vma, VmFlags bit)
    {
        var valid = ((ulong)bit & VmAtomicSetAllowed) == (ulong)bit;
        this.World.VmBugOn(!valid, $"WARN_ON_ONCE(!(mask & VM_ATOMIC_SET_ALLOWED)): {VmFlagsFormat.Describe((ulong)bit)} of {vma.Name}");
        return valid;
    }

    /// <summary>
    /// madvise_dontneed_free(), mm/madvise.c (v7.0), for MADV_DONTNEED and MADV_FREE: check the
    /// VMA, then zap the range (madvise_dontneed_single_vma()) or mark it lazily freeable
    /// (madvise_free_single_vma()). userfaultfd_remove(), which may drop mmap_lock, is left out
    /// (no VMA here is uffd-armed).
    /// </summary>
    int MadviseDontneedFree(MadvBehavior madvBehavior)
    {
        using var fn = this.World.Enter("madvise_dontneed_free", $"{madvBehavior.Vma!.Name}, {VmAreaStruct.Hex(madvBehavior.Start)}, {VmAreaStruct.Hex(madvBehavior.End)}");
        if (!MadviseDontneedFreeValidVma(madvBehavior))
        {
            return fn.Returns(-Errno.EINVAL);
        }

        if (madvBehavior.Start == madvBehavior.End)
        {
            return fn.Returns(0);
        }

        if (madvBehavior.Behavior == MadviseBehavior.DontNeed)
        {
            return fn.Returns(this.MadviseDontneedSingleVma(madvBehavior));
        }
        else if (madvBehavior.Behavior == MadviseBehavior.Free)
        {
            return fn.Returns(this.MadviseFreeSingleVma(madvBehavior));
        }

        return fn.Returns(-Errno.EINVAL);
    }

    /// <summary>madvise_dontneed_free_valid_vma(), mm/madvise.c (v7.0), for MADV_DONTNEED on a non-hugetlb VMA: no VM_PFNMAP, no VM_LOCKED.</summary>
    static bool MadviseDontneedFreeValidVma(MadvBehavior madvBehavior) =>
        (madvBehavior.Vma!.VmFlags.Plain() & (ulong)(VmFlags.PfnMap | VmFlags.Locked)) == 0;

    /// <summary>madvise_dontneed_single_vma(), mm/madvise.c (v7.0): zap_vma_range_batched() of the range (the TLB batch is not modelled).</summary>
    int MadviseDontneedSingleVma(MadvBehavior madvBehavior)
    {
        this.ZapPageRangeSingle(madvBehavior.Mm, madvBehavior.Start, madvBehavior.End);
        return 0;
    }

    /// <summary>
    /// get_walk_lock(), mm/madvise.c (v7.0): the page walk checks the lock madvise holds, the VMA
    /// read lock (PGWALK_VMA_RDLOCK_VERIFY) or mmap_lock for read (PGWALK_RDLOCK).
    /// </summary>
    PageWalkLock GetWalkLock(MadviseLockMode mode)
    {
        switch (mode)
        {
            case MadviseLockMode.VmaReadLock:
                return PageWalkLock.VmaRdLockVerify;
            case MadviseLockMode.MmapReadLock:
                return PageWalkLock.RdLock;
            default:
                // Other modes don't require fixing up the walk_lock.
                this.World.VmBugOn(true, $"WARN_ON_ONCE(1): get_walk_lock({mode})");
                return PageWalkLock.RdLock;
        }
    }

    /// <summary>
    /// madvise_free_single_vma(), mm/madvise.c (v7.0): MADV_FREE on an anonymous VMA only; clamp
    /// the range to the VMA (fields the caller's lock holds steady) and walk its page tables with
    /// madvise_free_pte_range(), the walk checking that lock. The mmu notifier, lru_add_drain(),
    /// the RSS high-water mark and the TLB gather are not modelled.
    /// </summary>
    int MadviseFreeSingleVma(MadvBehavior madvBehavior)
    {
        var vma = madvBehavior.Vma!;
        using var fn = this.World.Enter("madvise_free_single_vma", $"{vma.Name}, {VmAreaStruct.Hex(madvBehavior.Start)}, {VmAreaStruct.Hex(madvBehavior.End)}");

        // MADV_FREE works for only anon vma at the moment.
        if (!vma.IsAnonymous)
        {
            return fn.Returns(-Errno.EINVAL);
        }

        var rangeStart = Math.Max(vma.VmStart.Plain(), madvBehavior.Start);
        if (rangeStart >= vma.VmEnd.Plain())
        {
            return fn.Returns(-Errno.EINVAL);
        }

        var rangeEnd = Math.Min(vma.VmEnd.Plain(), madvBehavior.End);
        if (rangeEnd <= vma.VmStart.Plain())
        {
            return fn.Returns(-Errno.EINVAL);
        }

        var walkOps = new MmWalkOps(this.GetWalkLock(madvBehavior.LockMode), PmdEntry: this.MadviseFreePteRange);
        this.WalkPageRangeVma(vma, rangeStart, rangeEnd, walkOps);
        return fn.Returns(0);
    }

    /// <summary>
    /// madvise_free_pte_range(), mm/madvise.c (v7.0), for the port's page table (present PTEs of
    /// order-0 anonymous folios, nothing swapped or poisoned): under the page table lock, mark each
    /// mapped folio lazily freeable (folio_mark_lazyfree()). The folio's dirty and swap-cache
    /// state, the PTEs' young and dirty bits, and the reclaim that would free a lazyfree folio
    /// are not modelled; a folio mapped more than once is left alone, as the kernel leaves a
    /// dirty one.
    /// </summary>
    int MadviseFreePteRange(ulong addr, ulong end, MmWalk walk)
    {
        var pageTable = walk.Mm.PageTable;
        lock (pageTable.Ptl)
        {
            using var held = this.World.SpinHeld(pageTable.Ptl); // pte_offset_map_lock()
            foreach (var (_, pte) in pageTable.Range(addr, end))
            {
                if (pte.ReadOnce() is not { } ptent)
                {
                    continue; // pte_none()
                }

                var folio = ptent.Folio; // vm_normal_folio()
                if (folio.MapCount != 1)
                {
                    continue; // folio_mapcount(folio) != folio_nr_pages(folio)
                }

                folio.LazyFree = true; // folio_mark_lazyfree()
            }
        }

        return 0;
    }

    /// <summary>
    /// madvise_guard_remove(), mm/madvise.c (v7.0): guard markers may be removed from an mlock()ed
    /// VMA too (non-destructive); walk the range with guard_remove_pte_entry(), the walk checking
    /// the caller's lock. The port stores no guard markers (see madvise_guard_install()), so the
    /// walk finds none to clear: the monitors are told the range's markers are gone
    /// (GuardRegionRemoved). VM_MAYBE_GUARD stays set, as in the kernel: it only says guards may be there.
    /// </summary>
    int MadviseGuardRemove(MadvBehavior madvBehavior)
    {
        var vma = madvBehavior.Vma!;
        using var fn = this.World.Enter("madvise_guard_remove", $"{vma.Name}, {VmAreaStruct.Hex(madvBehavior.Start)}, {VmAreaStruct.Hex(madvBehavior.End)}");

        // We're ok with removing guards in mlock()'d ranges, as this is a non-destructive action.
        if (!IsValidGuardVma(vma, allowLocked: true))
        {
            return fn.Returns(-Errno.EINVAL);
        }

        var walkOps = new MmWalkOps(this.GetWalkLock(madvBehavior.LockMode));
        var error = this.WalkPageRangeVma(vma, madvBehavior.Start, madvBehavior.End, walkOps);
        if (error == 0)
        {
            this.World.Emit(new GuardRegionRemoved(this.Thread, vma.VmMm.Name, vma.Name, madvBehavior.Start, madvBehavior.End)); // guard_remove_pte_entry()
        }

        return fn.Returns(error);
    }
}
