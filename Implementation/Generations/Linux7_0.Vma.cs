using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>enum vma_merge_state, mm/vma.h (v7.0): how a merge attempt ended.</summary>
public enum VmaMergeState
{
    /// <summary>VMA_MERGE_START.</summary>
    Start,

    /// <summary>VMA_MERGE_ERROR_NOMEM.</summary>
    ErrorNomem,

    /// <summary>VMA_MERGE_NOMERGE.</summary>
    NoMerge,

    /// <summary>VMA_MERGE_SUCCESS.</summary>
    Success,
}

/// <summary>
/// struct mmap_state, mm/vma.c (v7.0): one mmap_region() call's state, as far as a new anonymous
/// or file mapping over a free range uses it (no unmapping of what lay there, no .mmap_prepare()).
/// </summary>
public sealed class MmapState(MmStruct mm, ulong addr, ulong len, ulong pgoff, ulong vmFlags, AddressSpace? file)
{
    public MmStruct Mm { get; } = mm;

    public ulong Addr { get; } = addr;

    public ulong End { get; } = addr + len;

    public ulong Pgoff { get; } = pgoff;

    public ulong VmFlags { get; } = vmFlags;

    public AddressSpace? File { get; } = file;

    public VmAreaStruct? Prev { get; set; }

    public VmAreaStruct? Next { get; set; }
}

/// <summary>
/// struct vma_merge_struct, mm/vma.h (v7.0), for a merge of a new range (vma_merge_new_range()):
/// the range and its attributes go in; the VMA that will cover it (target) and whether next goes
/// (__remove_next) are worked out. Not modelled: the mempolicy, the userfaultfd context, the anon
/// VMA name, copied_from (mremap()'s vma_merge_copied_range()) and just_expand (brk).
/// </summary>
public sealed class VmaMergeStruct(MmStruct mm)
{
    public MmStruct Mm { get; } = mm;

    public VmAreaStruct? Prev { get; set; }

    public VmAreaStruct? Next { get; set; }

    public VmAreaStruct? Target { get; set; }

    public ulong Start { get; set; }

    public ulong End { get; set; }

    public ulong Pgoff { get; set; }

    public ulong VmFlags { get; set; }

    public AddressSpace? File { get; set; }

    /// <summary>The anon_vma the new range brings: none for a new mapping.</summary>
    public AnonVma? AnonVma { get; set; }

    public VmaMergeState State { get; set; }

    /// <summary>__remove_next: next is merged into the target and goes.</summary>
    public bool RemoveNext { get; set; }

    /// <summary>VMG_MMAP_STATE(): a merge of the range <paramref name="map"/> maps.</summary>
    public static VmaMergeStruct Of(MmapState map) => new(map.Mm)
    {
        Start = map.Addr,
        End = map.End,
        VmFlags = map.VmFlags,
        Pgoff = map.Pgoff,
        File = map.File,
        Prev = map.Prev,
        Next = map.Next,
        State = VmaMergeState.Start,
    };
}

/// <summary>
/// Generation "7.0", mm/vma.c: mmap_region() as v7.0 has it, which first tries to merge the new
/// range into its neighbours (vma_merge_new_range() → vma_expand()) and only allocates a VMA when it
/// cannot (__mmap_new_vma()). Read from v7.0's mm/vma.c (a stored copy of the v7.0.0 tree, whose
/// own additions to can_vma_merge_before() and can_vma_merge_after() are left out).
/// <para>
/// vma_expand() reads the sticky flags (VM_STICKY) of the VMA it removes, next, before
/// vma_start_write(next), unlike vma_merge_existing_range(), which reads each VMA's after locking
/// it: 61f67c230a5e (v6.19-rc, "mm/vma: fix anon_vma UAF on mremap() faulted, unfaulted merge")
/// moved vma_start_write(next) below the read. A guard install holding next's read lock may set
/// VM_MAYBE_GUARD in between, and the merged VMA does not get it. Lorenzo Stoakes's "mm/vma: use
/// new VMA flags for sticky flags logic" ([PATCH v3 05/23], 2026-03-18, for v7.1) reads it after
/// vma_start_write(next).
/// </para>
/// <para>
/// Not modelled: MAP_FIXED over existing mappings (vms_gather_munmap_vmas() in __mmap_setup(),
/// vms_complete_munmap_vmas() in __mmap_complete()), .mmap_prepare() and mmap actions, KSM flags,
/// accounting (may_expand_vm(), VM_ACCOUNT), VM_LOCKED, uprobes, the VM_SOFTDIRTY that
/// __mmap_complete() sets (the port has no soft-dirty tracking), khugepaged, the maple tree's
/// preallocation (it cannot fail here), the VM_WARN_ON_VMG() checks, and the interval trees of
/// anon_vma and i_mmap (their locks are taken).
/// </para>
/// </summary>
public partial interface Linux7_0
{
    /// <summary>VM_STICKY, include/linux/mm.h (v6.19+): VM_SOFTDIRTY | VM_MAYBE_GUARD, kept by a merged VMA if either VMA had them; the port has no soft-dirty tracking.</summary>
    const ulong VmSticky = (ulong)VmFlags.MaybeGuard;

    /// <summary>VM_ATOMIC_SET_ALLOWED, include/linux/mm.h (v6.19+): the vm_flags bits vma_set_atomic_flag() may set under a read lock (VM_MAYBE_GUARD).</summary>
    const ulong VmAtomicSetAllowed = (ulong)VmFlags.MaybeGuard;

    /// <summary>VM_IGNORE_MERGE, include/linux/mm.h (v6.19+): the flags two VMAs may differ in and still merge (VM_STICKY).</summary>
    const ulong VmIgnoreMerge = VmSticky;

    /// <summary>
    /// mmap_region(), mm/vma.c (v7.0), with the mmap_write_lock() its caller (do_mmap() under
    /// vm_mmap_pgoff()) holds: maps [start, end) anonymously, or of <paramref name="file"/>, and
    /// returns the VMA that covers it: a neighbour grown over it, or a new one.
    /// <paramref name="anonVma"/> is an anon_vma a new VMA starts with (the port's fault-vs-recycle
    /// maps one for mm2).
    /// </summary>
    VmAreaStruct Linux.MmapRegion(MmStruct mm, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, AddressSpace? file)
    {
        using var fn = this.World.Enter("mmap_region", $"{mm.Name}, {VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)}{(file is null ? string.Empty : $", {file.Name}")}");
        this.MmapWriteLock(mm);
        var vma = this.__MmapRegion(mm, file, start, end - start, (ulong)flags, anonVma);
        this.MmapWriteUnlock(mm);
        return fn.Returns(vma);
    }

    /// <summary>
    /// __mmap_region(), mm/vma.c (v7.0): set up (find the neighbours), try to merge with them, else
    /// allocate a new VMA, then complete. The page offset of an anonymous mapping is its address in
    /// pages (do_mmap()).
    /// </summary>
    VmAreaStruct __MmapRegion(MmStruct mm, AddressSpace? file, ulong addr, ulong len, ulong vmFlags, AnonVma? anonVma)
    {
        using var fn = this.World.Enter("__mmap_region", $"{VmAreaStruct.Hex(addr)}, {VmAreaStruct.Hex(len)}");
        var map = new MmapState(mm, addr, len, VmAreaStruct.AnonPgoff(addr), vmFlags, file);
        VmAreaStruct? vma = null;
        this.__MmapSetup(map);

        // Attempt to merge with adjacent VMAs...
        if (map.Prev is not null || map.Next is not null)
        {
            vma = this.VmaMergeNewRange(VmaMergeStruct.Of(map));
        }

        // ...but if we can't, allocate a new VMA.
        vma ??= this.__MmapNewVma(map, anonVma);
        this.__MmapComplete(vma);
        return fn.Returns(vma);
    }

    /// <summary>
    /// __mmap_setup(), mm/vma.c (v7.0): find the first VMA overlapping the range (none: the port
    /// maps only free ranges), then the neighbours, with vma_iter_next_rewind(): the VMA after the
    /// range (the one vma_find() stopped at) and the one before it.
    /// </summary>
    void __MmapSetup(MmapState map)
    {
        using var fn = this.World.Enter("__mmap_setup", $"{VmAreaStruct.Hex(map.Addr)}-{VmAreaStruct.Hex(map.End)}");

        // Find the first overlapping VMA and initialise unmap state.
        var vmi = new VmaIterator(map.Mm, map.Addr);
        var found = this.VmaNext(vmi);
        if (found is not null && found.VmStart.Plain() < map.End)
        {
            throw new NotSupportedException($"mmap_region() over {found.Name}: unmapping what lies in the range (vms_gather_munmap_vmas()) is not ported");
        }

        map.Next = found;
        map.Prev = map.Mm.MmMt.VmaPrev(map.Addr);
    }

    /// <summary>
    /// __mmap_new_vma(), mm/vma.c (v7.0): no merge was possible, so a new VMA is allocated, set up,
    /// write-locked ("Lock the VMA since it is modified after insertion into VMA tree"), stored
    /// (vma_iter_store_new() attaches it) and, for a file, linked into i_mmap after it is in the
    /// tree (vma_link_file()).
    /// </summary>
    VmAreaStruct __MmapNewVma(MmapState map, AnonVma? anonVma)
    {
        using var fn = this.World.Enter("__mmap_new_vma", $"{VmAreaStruct.Hex(map.Addr)}-{VmAreaStruct.Hex(map.End)}");
        var vma = this.VmAreaAlloc(map.Mm, this.World.NewVmaName(), map.Addr, map.End, (VmFlags)map.VmFlags, anonVma, map.File);

        // Lock the VMA since it is modified after insertion into VMA tree
        this.VmaStartWrite(vma);
        this.VmaIterStoreNew(vma, map.Addr, map.End);
        if (map.File is { } file)
        {
            this.VmaLinkFile(vma, file);
        }

        return fn.Returns(vma);
    }

    /// <summary>vma_link_file(), mm/vma.c (v7.0): the VMA joins its file's i_mmap under i_mmap_rwsem (the interval tree itself is not modelled).</summary>
    void VmaLinkFile(VmAreaStruct vma, AddressSpace file)
    {
        using var fn = this.World.Enter("vma_link_file", vma.Name);
        using (this.World.Enter("i_mmap_lock_write", file.Name))
        {
            file.IMmapRwsem.DownWrite();
        }

        using (this.World.Enter("i_mmap_unlock_write", file.Name))
        {
            file.IMmapRwsem.UpWrite();
        }
    }

    /// <summary>__mmap_complete(), mm/vma.c (v7.0), for a mapping over a free range: the page protection from the flags (vma_set_page_prot()).</summary>
    void __MmapComplete(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("__mmap_complete", vma.Name);
        this.VmaSetPageProt(vma);
    }

    /// <summary>
    /// vma_merge_new_range(), mm/vma.c (v7.0): if the new range can join the VMA before it and/or
    /// the one after it, expand one of them over it (and over next, if both): vma_expand(). Returns
    /// the expanded VMA, or null when no merge was possible.
    /// </summary>
    VmAreaStruct? VmaMergeNewRange(VmaMergeStruct vmg)
    {
        using var fn = this.World.Enter("vma_merge_new_range", $"{VmAreaStruct.Hex(vmg.Start)}-{VmAreaStruct.Hex(vmg.End)}");
        var prev = vmg.Prev;
        var next = vmg.Next;
        this.MmapAssertWriteLocked(vmg.Mm);
        vmg.State = VmaMergeState.NoMerge;

        // Special VMAs are unmergeable, also if no prev/next.
        if ((vmg.VmFlags & (ulong)VmFlags.Special) != 0 || (prev is null && next is null))
        {
            return fn.Returns<VmAreaStruct?>(null);
        }

        var canMergeLeft = this.CanVmaMergeLeft(vmg);
        var canMergeRight = this.CanVmaMergeRight(vmg, canMergeLeft);

        // If we can merge with the next VMA, adjust vmg accordingly.
        if (canMergeRight)
        {
            vmg.End = next!.VmEnd.Plain();
            vmg.Target = next;
        }

        // If we can merge with the previous VMA, adjust vmg accordingly.
        if (canMergeLeft)
        {
            vmg.Start = prev!.VmStart.Plain();
            vmg.Target = prev;
            vmg.Pgoff = prev.VmPgoff.Plain();

            // The port's VMAs have no vm_ops->close: can_merge_remove_vma(next) holds, and vmg->end stays next's end.
        }

        // Now try to expand adjacent VMA(s). This takes care of removing the following VMA if we have VMAs on both sides.
        if (vmg.Target is not null && this.VmaExpand(vmg) == 0)
        {
            vmg.State = VmaMergeState.Success;
            return fn.Returns<VmAreaStruct?>(vmg.Target);
        }

        return fn.Returns<VmAreaStruct?>(null);
    }

    /// <summary>can_vma_merge_left(), mm/vma.c (v7.0): prev ends where the range starts and can be merged after.</summary>
    bool CanVmaMergeLeft(VmaMergeStruct vmg) =>
        vmg.Prev is { } prev && prev.VmEnd.Plain() == vmg.Start && this.CanVmaMergeAfter(vmg);

    /// <summary>
    /// can_vma_merge_right(), mm/vma.c (v7.0): next starts where the range ends and can be merged
    /// before; when prev can be merged too, prev's and next's anon_vmas must agree with each other.
    /// </summary>
    bool CanVmaMergeRight(VmaMergeStruct vmg, bool canMergeLeft)
    {
        var next = vmg.Next;
        if (next is null || vmg.End != next.VmStart.Plain() || !this.CanVmaMergeBefore(vmg))
        {
            return false;
        }

        if (!canMergeLeft)
        {
            return true;
        }

        // If we can merge with prev (left) and next (right), ... we therefore check this in addition to mergeability to either side.
        var prevAnon = vmg.Prev!.AnonVma.Plain();
        var nextAnon = next.AnonVma.Plain();
        return prevAnon is null || nextAnon is null || prevAnon == nextAnon;
    }

    /// <summary>can_vma_merge_before(), mm/vma.c (v7.0): the range can go in front of next (and next may be removed).</summary>
    bool CanVmaMergeBefore(VmaMergeStruct vmg)
    {
        var pglen = (vmg.End - vmg.Start) / PageTable.PageSize;
        return this.IsMergeableVma(vmg, mergeNext: true) && this.IsMergeableAnonVma(vmg, mergeNext: true)
            && vmg.Next!.VmPgoff.Plain() == vmg.Pgoff + pglen;
    }

    /// <summary>can_vma_merge_after(), mm/vma.c (v7.0): the range can go after prev.</summary>
    bool CanVmaMergeAfter(VmaMergeStruct vmg)
    {
        var prev = vmg.Prev!;
        return this.IsMergeableVma(vmg, mergeNext: false) && this.IsMergeableAnonVma(vmg, mergeNext: false)
            && prev.VmPgoff.Plain() + ((prev.VmEnd.Plain() - prev.VmStart.Plain()) / PageTable.PageSize) == vmg.Pgoff;
    }

    /// <summary>
    /// is_mergeable_vma(), mm/vma.c (v7.0): the neighbour's flags equal the range's but for
    /// VM_IGNORE_MERGE, and it maps the same file. vma->vm_flags is a plain load: the neighbour is
    /// not write-locked yet. (Mempolicy, userfaultfd context and anon name: not modelled.)
    /// </summary>
    bool IsMergeableVma(VmaMergeStruct vmg, bool mergeNext)
    {
        var vma = mergeNext ? vmg.Next! : vmg.Prev!;
        if (((vma.VmFlags.Plain() ^ vmg.VmFlags) & ~VmIgnoreMerge) != 0)
        {
            return false;
        }

        return vma.VmFile == vmg.File;
    }

    /// <summary>
    /// is_mergeable_anon_vma(), mm/vma.c (v7.0), for a new range (no middle, no copied_from):
    /// the range brings no anon_vma, so the neighbour's is used unless the neighbour was forked
    /// from a parent (vma_is_fork_child(): its anon_vma_chain is not singular).
    /// </summary>
    bool IsMergeableAnonVma(VmaMergeStruct vmg, bool mergeNext)
    {
        var tgt = mergeNext ? vmg.Next! : vmg.Prev!;
        var tgtAnon = tgt.AnonVma.Plain();
        var srcAnon = vmg.AnonVma;

        // Case 1 - we will dup_anon_vma() from src into tgt.
        if (tgtAnon is null && srcAnon is not null)
        {
            return true;
        }

        // Case 2 - we will simply use tgt's anon_vma.
        if (tgtAnon is not null && srcAnon is null)
        {
            return tgt.AnonVmaChain.Count <= 1; // !vma_is_fork_child(tgt)
        }

        // Case 3 - the anon_vma's are already shared.
        return srcAnon == tgtAnon;
    }

    /// <summary>
    /// vma_expand(), mm/vma.c (v7.0): grow the target over [vmg->start, vmg->end), removing next
    /// when the range reaches next's end. The target is write-locked first; the sticky flags of
    /// the range, the target and next are gathered, then next's anon_vma is propagated, and only
    /// then is next write-locked. After commit_merge() the target gets every sticky flag
    /// (vm_flags_set()).
    /// </summary>
    int VmaExpand(VmaMergeStruct vmg)
    {
        var target = vmg.Target!;
        var next = vmg.Next;
        using var fn = this.World.Enter("vma_expand", $"{target.Name}, {VmAreaStruct.Hex(vmg.Start)}-{VmAreaStruct.Hex(vmg.End)}{(next is null ? string.Empty : $", next {next.Name}")}");
        var removeNext = false;
        VmAreaStruct? anonDup = null;
        var ret = 0;

        this.MmapAssertWriteLocked(vmg.Mm);
        this.VmaStartWrite(target);

        if (next is not null && target != next && vmg.End == next.VmEnd.Plain())
        {
            removeNext = true;
        }

        var stickyFlags = vmg.VmFlags & VmSticky;
        stickyFlags |= target.VmFlags.Plain() & VmSticky;
        if (removeNext)
        {
            stickyFlags |= next!.VmFlags.Plain() & VmSticky;
        }

        // If we are removing the next VMA or copying from a VMA (e.g. mremap()'ing), we must propagate anon_vma state.
        if (removeNext)
        {
            ret = this.DupAnonVma(target, next!, ref anonDup);
        }

        if (ret != 0)
        {
            return fn.Returns(ret);
        }

        if (removeNext)
        {
            this.VmaStartWrite(next!);
            vmg.RemoveNext = true;
        }

        this.CommitMerge(vmg);
        this.VmFlagsSet(target, stickyFlags);
        return fn.Returns(0);
    }

    /// <summary>
    /// dup_anon_vma(), mm/vma.c (v7.0): when the destination has no anon_vma and the source has,
    /// the destination takes the source's (anon_vma_clone()). The destination must be write-locked.
    /// </summary>
    int DupAnonVma(VmAreaStruct dst, VmAreaStruct src, ref VmAreaStruct? dup)
    {
        using var fn = this.World.Enter("dup_anon_vma", $"{dst.Name}, {src.Name}");
        if (src.AnonVma.Plain() is { } anonVma && dst.AnonVma.Plain() is null)
        {
            this.VmaAssertWriteLocked(dst);
            dst.AnonVma.SetPlain(anonVma);
            dst.AnonVmaChain = src.AnonVmaChain; // anon_vma_clone()
            dup = dst;
        }

        return fn.Returns(0);
    }

    /// <summary>
    /// commit_merge(), mm/vma.c (v7.0), for a target that grows (no __adjust_*_start): the target's
    /// anon_vma is locked (vma_prepare()), the target takes the new range (vma_set_range()) and it
    /// in the tree (vma_iter_store_overwrite(), which overwrites next's entry), then the anon_vma is
    /// unlocked and a removed next is detached, unlinked from its anon_vma and freed (vma_complete()).
    /// </summary>
    void CommitMerge(VmaMergeStruct vmg)
    {
        var vma = vmg.Target!;
        using var fn = this.World.Enter("commit_merge", vma.Name);
        var mm = vmg.Mm;
        var remove = vmg.RemoveNext ? vmg.Next : null; // init_multi_vma_prep()
        var anonVma = vma.AnonVma.Plain();

        // vma_prepare()
        if (anonVma is not null)
        {
            using (this.World.Enter("anon_vma_lock_write", anonVma.Name))
            {
                anonVma.Rwsem.DownWrite();
            }
        }

        // vma_set_range()
        vma.VmStart.SetPlain(vmg.Start);
        vma.VmEnd.SetPlain(vmg.End);
        vma.VmPgoff.SetPlain(vmg.Pgoff);

        // vma_iter_store_overwrite(): the target's range replaces next's entry too, in one store.
        mm.MmMt.StoreOverwrite(vma, vmg.Start, vmg.End, remove);

        // vma_complete()
        if (anonVma is not null)
        {
            using (this.World.Enter("anon_vma_unlock_write", anonVma.Name))
            {
                anonVma.Rwsem.UpWrite();
            }
        }

        if (remove is not null)
        {
            this.VmaMarkDetached(remove, true);
            if (remove.AnonVma.Plain() is not null)
            {
                this.UnlinkAnonVmas(remove);
            }

            this.VmAreaFree(remove);
        }
    }
}
