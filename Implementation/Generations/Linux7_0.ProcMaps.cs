using VmaLockVerify.Implementation.Fs;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>
/// Generation "7.0", fs/proc/task_mmu.c and fs/seq_file.c: the readers of an address space's
/// layout that take no mmap_lock (6.17: 'fs/proc/task_mmu: read proc/pid/maps under per-vma
/// lock' and 'mm/maps: execute PROCMAP_QUERY ioctl under per-vma locks', as v7.0 has them with
/// the per-query proc_maps_locking_ctx). /proc/PID/maps walks the tree under RCU and read-locks
/// one VMA at a time with lock_next_vma(), falling back to mmap_lock when a VMA cannot be
/// locked; PROCMAP_QUERY locks the one VMA it answers about. The generations before it read both
/// under mmap_lock, which is not ported.
/// <para>
/// Not modelled: the task and mm references of the reader (get_proc_task(), mmget_not_zero(),
/// mmput(), put_task_struct(): the process outlives its readers here), the task mempolicy, the
/// gate VMA (get_gate_vma() is NULL: no vsyscall page), smaps and numa_maps (they keep
/// mmap_lock), the build ID and the copy to user space; a line of /proc/PID/maps is its range,
/// its permissions and the VMA's name (get_vma_name(), through anon_vma_name() and its
/// vma_assert_stabilised()).
/// </para>
/// </summary>
public partial interface Linux7_0
{
    /// <summary>SENTINEL_VMA_END, fs/proc/task_mmu.c (v7.0): m->index after the gate VMA: the end of the file.</summary>
    const long SentinelVmaEnd = -1;

    /// <summary>SENTINEL_VMA_GATE, fs/proc/task_mmu.c (v7.0): m->index once the last VMA is shown: the gate VMA is next.</summary>
    const long SentinelVmaGate = -2;

    /// <summary>
    /// proc_maps_open(), fs/proc/task_mmu.c (v7.0), for /proc/PID/maps (pid_maps_open() →
    /// do_maps_open()): the seq_file with its private data; lock_ctx.mm is the process's mm
    /// (proc_mem_open()). <paramref name="name"/>: how traces name the file.
    /// </summary>
    SeqFile ProcMapsOpen(MmStruct mm, string name)
    {
        using var fn = this.World.Enter("proc_maps_open", name);
        return new SeqFile(name, mm, SeqOperations.ProcPidMaps);
    }

    /// <summary>reset_lock_ctx(), fs/proc/task_mmu.c (v7.0).</summary>
    static void ResetLockCtx(ProcMapsLockingCtx lockCtx)
    {
        lockCtx.LockedVma = null;
        lockCtx.MmapLocked = false;
    }

    /// <summary>unlock_ctx_vma(), fs/proc/task_mmu.c (v7.0): drop the VMA read lock the reader holds, if any.</summary>
    void UnlockCtxVma(ProcMapsLockingCtx lockCtx)
    {
        if (lockCtx.LockedVma is { } locked)
        {
            this.VmaEndRead(locked);
            lockCtx.LockedVma = null;
        }
    }

    /// <summary>
    /// lock_vma_range(), fs/proc/task_mmu.c (v7.0): smaps and numa_maps walk page tables and take
    /// mmap_lock; maps locks only the VMA it shows, walking the tree under RCU.
    /// </summary>
    bool LockVmaRange(SeqFile m, ProcMapsLockingCtx lockCtx)
    {
        using var fn = this.World.Enter("lock_vma_range", m.Name);
        if (m.Op != SeqOperations.ProcPidMaps)
        {
            if (this.MmapReadLockKillable(lockCtx.Mm) != 0)
            {
                return fn.Returns(false);
            }

            lockCtx.MmapLocked = true;
        }
        else
        {
            this.World.Rcu.ReadLock();
            ResetLockCtx(lockCtx);
        }

        return fn.Returns(true);
    }

    /// <summary>unlock_vma_range(), fs/proc/task_mmu.c (v7.0).</summary>
    void UnlockVmaRange(ProcMapsLockingCtx lockCtx)
    {
        using var fn = this.World.Enter("unlock_vma_range", lockCtx.Mm.Name);
        if (lockCtx.MmapLocked)
        {
            this.MmapReadUnlock(lockCtx.Mm);
        }
        else
        {
            this.UnlockCtxVma(lockCtx);
            this.World.Rcu.ReadUnlock();
        }
    }

    /// <summary>get_next_vma(), fs/proc/task_mmu.c (v7.0): under mmap_lock the next VMA; else drop the last one's read lock and lock the next.</summary>
    VmaPtr GetNextVma(SeqFile priv, long lastPos)
    {
        using var fn = this.World.Enter("get_next_vma", $"{priv.Name}, {lastPos}");
        var lockCtx = priv.LockCtx;
        if (lockCtx.MmapLocked)
        {
            return fn.Returns<VmaPtr>(this.VmaNext(priv.Iter));
        }

        this.UnlockCtxVma(lockCtx);
        var vma = this.LockNextVma(lockCtx.Mm, priv.Iter, (ulong)lastPos);
        if (!vma.IsErrOrNull)
        {
            lockCtx.LockedVma = vma.Vma;
        }

        return fn.Returns(vma);
    }

    /// <summary>fallback_to_mmap_lock(), fs/proc/task_mmu.c (v7.0): leave RCU for mmap_read_lock and reinitialize the iterator.</summary>
    bool FallbackToMmapLock(SeqFile priv, long pos)
    {
        using var fn = this.World.Enter("fallback_to_mmap_lock", $"{priv.Name}, {pos}");
        var lockCtx = priv.LockCtx;
        if (lockCtx.MmapLocked)
        {
            return fn.Returns(false);
        }

        this.World.Rcu.ReadUnlock();
        this.MmapReadLock(lockCtx.Mm);

        // Reinitialize the iterator after taking mmap_lock.
        this.VmaIterSet(priv.Iter, (ulong)pos);
        lockCtx.MmapLocked = true;
        return fn.Returns(true);
    }

    /// <summary>
    /// proc_get_vma(), fs/proc/task_mmu.c (v7.0): the next VMA from *ppos (m->index), retrying
    /// under mmap_lock on -EAGAIN; the position moves to the VMA's end (so it changes even when the
    /// previous VMA was merged with this one and the extended VMA has the same vm_start).
    /// </summary>
    VmaPtr ProcGetVma(SeqFile m)
    {
        using var fn = this.World.Enter("proc_get_vma", $"{m.Name}, {m.Index}");
        while (true) // retry:
        {
            var vma = this.GetNextVma(m, m.Index);

            // EINTR or EAGAIN is possible.
            if (vma.IsErr)
            {
                if (vma.Err == -Errno.EAGAIN && this.FallbackToMmapLock(m, m.Index))
                {
                    continue;
                }

                return fn.Returns(vma);
            }

            // Store the previous position to be able to restart if needed.
            m.LastPos = m.Index;
            if (vma.Vma is { } found)
            {
                m.Index = (long)found.VmEnd.Plain();
            }
            else
            {
                m.Index = SentinelVmaGate;
                vma = VmaPtr.Null; // get_gate_vma(): no gate VMA here
            }

            return fn.Returns(vma);
        }
    }

    /// <summary>m_start(), fs/proc/task_mmu.c (v7.0): lock the range (RCU for maps), restart from the last position, find the next VMA.</summary>
    VmaPtr MStart(SeqFile m)
    {
        using var fn = this.World.Enter("m_start", $"{m.Name}, {m.Index}");
        var lastAddr = m.Index;

        // See m_next(). Zero at the start or after lseek.
        if (lastAddr == SentinelVmaEnd)
        {
            return fn.Returns(VmaPtr.Null);
        }

        m.HasTask = true; // get_proc_task(), mmget_not_zero(): the process is alive
        var lockCtx = m.LockCtx;
        if (!this.LockVmaRange(m, lockCtx))
        {
            m.HasTask = false;
            return fn.Returns(VmaPtr.ErrPtr(-Errno.EINTR));
        }

        // Reset the current position if last_addr was set before and it is not a sentinel.
        if (lastAddr > 0)
        {
            m.Index = lastAddr = m.LastPos;
        }

        this.VmaIterInit(m.Iter, (ulong)Math.Max(lastAddr, 0));
        if (lastAddr == SentinelVmaGate)
        {
            return fn.Returns(VmaPtr.Null); // get_gate_vma(mm)
        }

        return fn.Returns(this.ProcGetVma(m));
    }

    /// <summary>m_next(), fs/proc/task_mmu.c (v7.0).</summary>
    VmaPtr MNext(SeqFile m)
    {
        using var fn = this.World.Enter("m_next", $"{m.Name}, {m.Index}");
        if (m.Index == SentinelVmaGate)
        {
            m.Index = SentinelVmaEnd;
            return fn.Returns(VmaPtr.Null);
        }

        return fn.Returns(this.ProcGetVma(m));
    }

    /// <summary>m_stop(), fs/proc/task_mmu.c (v7.0): unlock the range (the VMA read lock and RCU for maps).</summary>
    void MStop(SeqFile m)
    {
        using var fn = this.World.Enter("m_stop", m.Name);
        if (!m.HasTask)
        {
            return;
        }

        this.UnlockVmaRange(m.LockCtx);
        m.HasTask = false; // mmput(), put_task_struct()
    }

    /// <summary>
    /// show_map_vma(), fs/proc/task_mmu.c (v7.0), reduced to the line's range, permissions and
    /// name: vm_flags, vm_start and vm_end as the VMA has them now (the caller holds its read lock
    /// or mmap_lock).
    /// </summary>
    void ShowMapVma(SeqFile m, VmAreaStruct vma)
    {
        using var fn = this.World.Enter("show_map_vma", $"{m.Name}, {vma.Name}");
        var flags = (VmFlags)vma.VmFlags.Plain();
        var start = vma.VmStart.Plain();
        var end = vma.VmEnd.Plain();
        this.World.Emit(new VmaRangeReported(this.Thread, m.LockCtx.Mm.Name, vma.Name, start, end, "show_map_vma", m.Name));
        var name = this.GetVmaName(vma);
        m.Lines.Add($"{start:x8}-{end:x8} {(flags.HasFlag(VmFlags.Read) ? 'r' : '-')}{(flags.HasFlag(VmFlags.Write) ? 'w' : '-')}{(flags.HasFlag(VmFlags.Exec) ? 'x' : '-')}p {name}");
    }

    /// <summary>
    /// get_vma_name(), fs/proc/task_mmu.c (v7.0), reduced to the names the port's VMAs can have: a
    /// file mapping shows its anon_vma_name() or else its path; an anonymous one its
    /// anon_vma_name() (the port has no vm_ops names, [heap], [stack] or vdso).
    /// </summary>
    string? GetVmaName(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("get_vma_name", vma.Name);
        var anonName = this.AnonVmaName(vma); // vma->vm_mm ? anon_vma_name(vma) : NULL: every VMA here has an mm
        if (vma.VmFile is { } file)
        {
            // If user named this anon shared memory via prctl(PR_SET_VMA ..., use the provided name.
            return fn.Returns(anonName ?? file.Name);
        }

        return fn.Returns(anonName);
    }

    /// <summary>
    /// seq_read_iter(), fs/seq_file.c (v7.0), for a read() whose buffer holds <paramref name="room"/>
    /// lines: start, show one record, then advance the iterator once for every record shown until
    /// the buffer is full or the records end, then stop. Returns the lines read (0 at the end of
    /// the file) or a negative errno. A maps line always fits and is never skipped, so the
    /// kernel's restart with a bigger buffer never happens here.
    /// </summary>
    int SeqReadIter(SeqFile m, int room)
    {
        using var fn = this.World.Enter("seq_read_iter", $"{m.Name}, {room} line(s)");
        m.Count = 0;

        // Get a non-empty record in the buffer.
        var p = this.MStart(m);
        if (p.IsErrOrNull)
        {
            // EOF or an error.
            this.MStop(m);
            return fn.Returns(p.Err);
        }

        this.ShowMapVma(m, p.Vma!);
        m.Count++;

        // Fill: one record is in the buffer; if they want more, try to fit more in, but in any
        // case advance the iterator once for every record shown.
        while (true)
        {
            var pos = m.Index;
            p = this.MNext(m);
            if (pos == m.Index)
            {
                m.Index++; // the iterator did not move its position: skip one
            }

            if (p.IsErrOrNull || m.Count >= room)
            {
                break; // no next record for us, or the buffer is full
            }

            this.ShowMapVma(m, p.Vma!);
            m.Count++;
        }

        this.MStop(m);
        return fn.Returns(m.Count);
    }

    // ---- PROCMAP_QUERY -------------------------------------------------------------------

    /// <summary>
    /// procfs_procmap_ioctl(), fs/proc/task_mmu.c (v7.0), PROCMAP_QUERY: do_procmap_query() on the
    /// mm the file was opened for. Each query has its own lock context, so threads may share the file.
    /// </summary>
    int ProcfsProcmapIoctl(SeqFile file, ulong queryAddr, ProcmapQueryFlags queryFlags, int vmaNameSize) =>
        this.DoProcmapQuery(file.LockCtx.Mm, queryAddr, queryFlags, vmaNameSize);

    /// <summary>query_vma_setup(), fs/proc/task_mmu.c (v7.0): a fresh lock context; nothing is locked yet.</summary>
    int QueryVmaSetup(ProcMapsLockingCtx lockCtx)
    {
        using var fn = this.World.Enter("query_vma_setup", lockCtx.Mm.Name);
        ResetLockCtx(lockCtx);
        return fn.Returns(0);
    }

    /// <summary>query_vma_teardown(), fs/proc/task_mmu.c (v7.0): drop mmap_lock, or the VMA read lock.</summary>
    void QueryVmaTeardown(ProcMapsLockingCtx lockCtx)
    {
        using var fn = this.World.Enter("query_vma_teardown", lockCtx.Mm.Name);
        if (lockCtx.MmapLocked)
        {
            this.MmapReadUnlock(lockCtx.Mm);
            lockCtx.MmapLocked = false;
        }
        else
        {
            this.UnlockCtxVma(lockCtx);
        }
    }

    /// <summary>
    /// query_vma_find_by_addr(), fs/proc/task_mmu.c (v7.0): under mmap_lock, find_vma(); else drop
    /// the VMA locked before and lock the next one from <paramref name="addr"/>, under RCU only for
    /// the lookup; on vm_refcnt overflow (-EAGAIN) fall back to mmap_lock.
    /// </summary>
    VmaPtr QueryVmaFindByAddr(ProcMapsLockingCtx lockCtx, ulong addr)
    {
        using var fn = this.World.Enter("query_vma_find_by_addr", $"{lockCtx.Mm.Name}, {VmAreaStruct.Hex(addr)}");
        var mm = lockCtx.Mm;
        if (lockCtx.MmapLocked)
        {
            return fn.Returns<VmaPtr>(mm.MmMt.FindVma(addr));
        }

        // Unlock the previously locked VMA and find the next one under RCU.
        this.UnlockCtxVma(lockCtx);
        this.World.Rcu.ReadLock();
        var vmi = new VmaIterator(mm, addr); // vma_iter_init(&vmi, mm, addr)
        var vma = this.LockNextVma(mm, vmi, addr);
        this.World.Rcu.ReadUnlock();

        if (vma.Vma is null && !vma.IsErr)
        {
            return fn.Returns(VmaPtr.Null);
        }

        if (!vma.IsErr)
        {
            lockCtx.LockedVma = vma.Vma;
            return fn.Returns(vma);
        }

        if (vma.Err == -Errno.EAGAIN)
        {
            // Fall back to mmap_lock on vma->vm_refcnt overflow.
            this.MmapReadLock(mm);
            vma = mm.MmMt.FindVma(addr);
            lockCtx.MmapLocked = true;
        }

        return fn.Returns(vma);
    }

    /// <summary>
    /// query_matching_vma(), fs/proc/task_mmu.c (v7.0), for the flags the port has: the VMA
    /// covering <paramref name="addr"/>, or with PROCMAP_QUERY_COVERING_OR_NEXT_VMA the next one;
    /// with PROCMAP_QUERY_FILE_BACKED_VMA, only file-backed ones. -ENOENT when there is none.
    /// </summary>
    VmaPtr QueryMatchingVma(ProcMapsLockingCtx lockCtx, ulong addr, ProcmapQueryFlags flags)
    {
        using var fn = this.World.Enter("query_matching_vma", $"{lockCtx.Mm.Name}, {VmAreaStruct.Hex(addr)}, {flags}");
        while (true) // next_vma:
        {
            var vma = this.QueryVmaFindByAddr(lockCtx, addr);
            if (vma.IsErr)
            {
                return fn.Returns(vma);
            }

            if (vma.Vma is not { } found)
            {
                return fn.Returns(VmaPtr.ErrPtr(-Errno.ENOENT)); // no_vma:
            }

            // The user requested only file-backed VMAs: keep iterating (goto skip_vma).
            if (!(flags.HasFlag(ProcmapQueryFlags.FileBackedVma) && found.VmFile is null))
            {
                // Found the covering VMA, or the user is OK with the matching next VMA.
                if (flags.HasFlag(ProcmapQueryFlags.CoveringOrNextVma) || found.VmStart.Plain() <= addr)
                {
                    return fn.Returns(vma);
                }
            }

            // skip_vma: if the user needs the closest matching VMA, keep iterating.
            addr = found.VmEnd.Plain();
            if (!flags.HasFlag(ProcmapQueryFlags.CoveringOrNextVma))
            {
                return fn.Returns(VmaPtr.ErrPtr(-Errno.ENOENT)); // no_vma:
            }
        }
    }

    /// <summary>
    /// do_procmap_query(), fs/proc/task_mmu.c (v7.0), reduced to the range and the name: set up a
    /// lock context of its own, find the matching VMA (read-locked, or under mmap_lock), read its
    /// range, and for a VMA with a name allocate the name buffer (GFP_KERNEL: it may sleep, so
    /// never under RCU) before tearing the locks down. Returns 0 or a negative errno.
    /// </summary>
    int DoProcmapQuery(MmStruct mm, ulong queryAddr, ProcmapQueryFlags queryFlags, int vmaNameSize)
    {
        using var fn = this.World.Enter("do_procmap_query", $"{mm.Name}, {VmAreaStruct.Hex(queryAddr)}, {queryFlags}");
        var lockCtx = new ProcMapsLockingCtx(mm);
        var err = this.QueryVmaSetup(lockCtx);
        if (err != 0)
        {
            return fn.Returns(err);
        }

        var vma = this.QueryMatchingVma(lockCtx, queryAddr, queryFlags);
        if (vma.IsErr)
        {
            this.QueryVmaTeardown(lockCtx); // out:
            return fn.Returns(vma.Err);
        }

        var found = vma.Vma!;
        var vmaStart = found.VmStart.Plain();
        var vmaEnd = found.VmEnd.Plain();
        this.World.Emit(new VmaRangeReported(this.Thread, mm.Name, found.Name, vmaStart, vmaEnd, "do_procmap_query", File: null));

        if (vmaNameSize != 0 && this.GetVmaName(found) is not null)
        {
            // get_vma_name() found a path or a name: name_buf = kmalloc(name_buf_sz, GFP_KERNEL).
            this.World.MightSleep($"kmalloc({vmaNameSize}, GFP_KERNEL)");
        }

        // Unlock the VMA or mmap_lock before copying data to user space.
        this.QueryVmaTeardown(lockCtx);
        return fn.Returns(0);
    }
}

/// <summary>The query_flags of struct procmap_query (include/uapi/linux/fs.h) the port reads.</summary>
[Flags]
public enum ProcmapQueryFlags
{
    /// <summary>Only the VMA covering the address.</summary>
    None = 0,

    /// <summary>PROCMAP_QUERY_COVERING_OR_NEXT_VMA: or else the next VMA above it.</summary>
    CoveringOrNextVma = 0x10,

    /// <summary>PROCMAP_QUERY_FILE_BACKED_VMA: only file-backed VMAs.</summary>
    FileBackedVma = 0x20,
}
