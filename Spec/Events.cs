namespace VmaLockVerify.Spec;

/// <summary>How a lock is held.</summary>
public enum LockMode
{
    Read,
    Write,
}

/// <summary>
/// Something the port did that the protocol has an opinion about. The port reports each one at
/// the instant it takes effect (no scheduling point between the effect and the report), so the
/// monitors see the events in the order the effects happened. Names are the kernel's objects as
/// the scenario named them ("mm", "vma1") and the thread names ("fault0", "writer").
/// </summary>
public abstract record ProtocolEvent(ThreadName Thread)
{
    /// <summary>One line in kernel terms, for traces and violation messages.</summary>
    public abstract string Describe();
}

/// <summary>A thread acquired mmap_lock (mmap_read_lock/_trylock or mmap_write_lock).</summary>
public sealed record MmapLockAcquired(ThreadName Thread, MmName Mm, LockMode Mode) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} acquired {Mm}->mmap_lock for {Mode.ToString().ToLowerInvariant()}";
}

/// <summary>A thread is about to release mmap_lock (up_read/up_write); reported before the release.</summary>
public sealed record MmapLockReleased(ThreadName Thread, MmName Mm, LockMode Mode) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} releases {Mm}->mmap_lock ({Mode.ToString().ToLowerInvariant()})";
}

/// <summary>downgrade_write() on mmap_lock: the write hold became a read hold.</summary>
public sealed record MmapLockDowngraded(ThreadName Thread, MmName Mm) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} downgraded {Mm}->mmap_lock to read";
}

/// <summary>
/// mm_lock_seq moved on: vma_end_write_all() released every VMA write lock of this mm (and, from
/// v6.14, mmap_write_lock() began a new write sequence).
/// </summary>
public sealed record MmSequenceBumped(ThreadName Thread, MmName Mm, long NewSequence) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} advanced {Mm}->mm_lock_seq to {NewSequence}";
}

/// <summary>vma_start_write() stored vm_lock_seq = mm_lock_seq: the VMA is write-marked in the current sequence.</summary>
public sealed record VmaWriteMarked(ThreadName Thread, MmName Mm, VmaName Vma, long Sequence) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} vma_start_write: {Vma}->vm_lock_seq = {Sequence}";
}

/// <summary>
/// A proposal's early release of one VMA's write mark (vma_end_write(), named in the seed thread
/// and never in the kernel): the VMA is no longer write-marked, though the section goes on.
/// </summary>
public sealed record VmaWriteReleased(ThreadName Thread, MmName Mm, VmaName Vma) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} vma_end_write({Vma}): {Vma} no longer write-locked";
}

/// <summary>
/// A proposal's downgrade of one VMA's write mark to a read hold (vma_downgrade_write(), named in
/// the seed thread and never in the kernel): the VMA is no longer write-marked, new readers may
/// enter, and the writer now holds the VMA's read lock (released with vma_end_read()).
/// </summary>
public sealed record VmaWriteDowngraded(ThreadName Thread, MmName Mm, VmaName Vma) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} vma_downgrade_write({Vma}): write lock now a read lock";
}

/// <summary>vma_start_write() returned; the VMA must now be write-marked in the current sequence.</summary>
public sealed record VmaStartWriteReturned(ThreadName Thread, MmName Mm, VmaName Vma, bool WasAlreadyMarked) : ProtocolEvent(Thread)
{
    public override string Describe() =>
        $"{Thread} vma_start_write({Vma}) returned{(WasAlreadyMarked ? " (already write-locked in this sequence)" : "")}";
}

/// <summary>vma_start_read() returned: Locked says whether the VMA is now read-locked by the thread.</summary>
public sealed record VmaStartReadReturned(ThreadName Thread, MmName Mm, VmaName Vma, bool Locked) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} vma_start_read({Vma}) = {(Locked ? "true" : "false")}";
}

/// <summary>vma_end_read() is releasing the thread's read lock; reported before the release.</summary>
public sealed record VmaReadUnlocked(ThreadName Thread, MmName Mm, VmaName Vma) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} vma_end_read({Vma})";
}

/// <summary>vma_mark_detached(vma, detached) stored the flag.</summary>
public sealed record VmaDetachedChanged(ThreadName Thread, MmName Mm, VmaName Vma, bool Detached) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} vma_mark_detached({Vma}, {(Detached ? "true" : "false")})";
}

/// <summary>The VMA tree of an mm gained or lost a VMA (vma_iter_store / vma_iter_clear).</summary>
public sealed record VmaTreeChanged(ThreadName Thread, MmName Mm, VmaName Vma, bool Inserted) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} {(Inserted ? "inserted" : "removed")} {Vma} {(Inserted ? "into" : "from")} {Mm}->mm_mt";
}

/// <summary>
/// A writer stored a VMA field that page faults read (vm_start, vm_end, vm_flags, anon_vma).
/// <paramref name="Value"/> as the kernel prints it; <paramref name="Raw"/>, the value as a number
/// for the numeric fields (vm_start, vm_end, vm_pgoff, vm_flags), null for a pointer.
/// </summary>
public sealed record VmaFieldWritten(ThreadName Thread, MmName Mm, VmaName Vma, string Field, string Value, ulong? Raw = null) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} wrote {Vma}->{Field} = {Value}";
}

/// <summary>
/// vma_set_atomic_flag() (include/linux/mm.h, v7.0) set a bit of vma->vm_flags with set_bit(): one
/// atomic read-modify-write from <paramref name="Old"/> to <paramref name="New"/>, which needs only a
/// VMA or mmap read lock, and only for the bits of VM_ATOMIC_SET_ALLOWED (VM_MAYBE_GUARD).
/// </summary>
public sealed record VmaFlagSetAtomic(ThreadName Thread, MmName Mm, VmaName Vma, ulong Old, ulong New) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} set_bit() on {Vma}->vm_flags: 0x{Old:x} -> 0x{New:x}";
}

/// <summary>
/// madvise(MADV_GUARD_INSTALL) (v6.13+; under the VMA read lock from v6.19) left guard markers
/// (PTE_MARKER_GUARD) in the page tables of [<paramref name="Start"/>, <paramref name="End"/>), in
/// <paramref name="Vma"/>: page table contents no VMA field describes but VM_MAYBE_GUARD.
/// </summary>
public sealed record GuardRegionInstalled(ThreadName Thread, MmName Mm, VmaName Vma, ulong Start, ulong End) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} installed guard markers in {Vma} [0x{Start:x}-0x{End:x})";
}

/// <summary>
/// madvise(MADV_GUARD_REMOVE) (v6.13+; under the VMA read lock from v6.19) cleared the guard
/// markers of [<paramref name="Start"/>, <paramref name="End"/>) in <paramref name="Vma"/>.
/// VM_MAYBE_GUARD stays set: it says only that markers may be there.
/// </summary>
public sealed record GuardRegionRemoved(ThreadName Thread, MmName Mm, VmaName Vma, ulong Start, ulong End) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} removed guard markers from {Vma} [0x{Start:x}-0x{End:x})";
}

/// <summary>A page fault began at an address (do_user_addr_fault).</summary>
public sealed record FaultStarted(ThreadName Thread, MmName Mm, ulong Address) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} page fault at 0x{Address:x}";
}

/// <summary>
/// might_sleep() inside an RCU read-side critical section: <paramref name="Call"/> (down_read,
/// down_write, schedule(), a GFP_KERNEL allocation) was reached in <paramref name="Function"/>
/// while the thread held rcu_read_lock(). Reported only then.
/// </summary>
public sealed record MightSleepUnderRcu(ThreadName Thread, string Call, string Function) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} calls {Call} in {Function} under rcu_read_lock()";
}

/// <summary>lock_vma_under_rcu() returned a read-locked VMA: the fault proceeds on it without mmap_lock.</summary>
public sealed record FaultLockedVma(ThreadName Thread, MmName Mm, VmaName Vma, ulong Address) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} lock_vma_under_rcu(0x{Address:x}) = {Vma}";
}

/// <summary>The fault gave up on the per-VMA lock and retries under mmap_read_lock.</summary>
public sealed record FaultFellBack(ThreadName Thread, MmName Mm, ulong Address, string Reason) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} falls back to mmap_read_lock at 0x{Address:x} ({Reason})";
}

/// <summary>The page fault finished (handled, or SIGSEGV for an unmapped address).</summary>
public sealed record FaultCompleted(ThreadName Thread, MmName Mm, ulong Address, FaultOutcome Outcome) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} page fault at 0x{Address:x} done: {Outcome}";
}

/// <summary>A VMA was freed (the RCU callback of vm_area_free ran).</summary>
public sealed record VmaFreed(ThreadName Thread, MmName Mm, VmaName Vma) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} freed {Vma} (vm_area_free RCU callback)";
}

/// <summary>
/// A new VMA was allocated (vm_area_alloc / vm_area_dup); it is private to its creator until
/// inserted. <paramref name="Start"/> and <paramref name="End"/>: the range it was made with;
/// <paramref name="Recycled"/>: the memory is a freed VMA taken back from the cache (v6.15's
/// SLAB_TYPESAFE_BY_RCU), which readers that found the old one may still be looking at;
/// <paramref name="Flags"/>: the vm_flags it was made with (vm_area_dup() copies them).
/// </summary>
public sealed record VmaCreated(ThreadName Thread, MmName Mm, VmaName Vma, ulong Start, ulong End, bool Recycled = false, ulong Flags = 0) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} allocated {Vma}";
}

/// <summary>
/// A lookup under RCU starts over (the -EAGAIN retry of lock_vma_under_rcu() and lock_next_vma(),
/// VMA_LOCK_MISS) because the VMA it found, <paramref name="Vma"/>, is no longer attached.
/// </summary>
public sealed record VmaLookupRetried(ThreadName Thread, MmName Mm, VmaName Vma, string Function) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} {Function} retries: {Vma} is no longer attached";
}

/// <summary>
/// A VMA the address space had before any thread ran (exec and earlier mmaps), with its range:
/// told to the monitors at setup, never part of a trace or of a protocol state.
/// </summary>
public sealed record VmaInstalledAtBoot(MmName Mm, VmaName Vma, ulong Start, ulong End, ulong Flags = 0) : ProtocolEvent("(boot)")
{
    public override string Describe() => $"{Mm} has {Vma} [0x{Start:x}-0x{End:x}) at boot";
}

/// <summary>
/// A reader of the address space's layout reported a VMA's range to user space:
/// show_map_vma() printing a line of /proc/PID/maps (<paramref name="File"/>: the open file,
/// whose lines follow one another), or do_procmap_query() answering a PROCMAP_QUERY ioctl
/// (<paramref name="File"/> null: each answer stands alone).
/// </summary>
public sealed record VmaRangeReported(ThreadName Thread, MmName Mm, VmaName Vma, ulong Start, ulong End, string Function, string? File) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} {Function} reports {Vma} [0x{Start:x}-0x{End:x}){(File is null ? string.Empty : $" in {File}")}";
}

/// <summary>mmgrab(): the thread took a reference on an mm_struct (mm_count), keeping its memory alive.</summary>
public sealed record MmGrabbed(ThreadName Thread, MmName Mm) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} mmgrab({Mm})";
}

/// <summary>mmdrop(): the thread dropped its reference on an mm_struct; Freed when that freed it.</summary>
public sealed record MmDropped(ThreadName Thread, MmName Mm, bool Freed) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} mmdrop({Mm}){(Freed ? ": freed" : "")}";
}

/// <summary>
/// vma_refcount_put() (v6.15+) is about to drop a VMA reference; it has read the VMA's mm
/// (<paramref name="VmaMm"/>) and may wake that mm's writer afterwards. <paramref name="OwnMm"/> is
/// the mm of the thread's own process (current->mm), which it holds by being one of its users.
/// </summary>
public sealed record VmaReferenceDropping(ThreadName Thread, VmaName Vma, MmName VmaMm, MmName? OwnMm) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} vma_refcount_put({Vma}) with {Vma}->vm_mm = {VmaMm}";
}

/// <summary>
/// A thread touched freed memory (KASAN's report): <paramref name="Access"/> ("read", "write" or
/// "free") of <paramref name="Object"/>-&gt;<paramref name="Field"/> by the kernel operation
/// <paramref name="Op"/> in <paramref name="Function"/>, after <paramref name="FreedBy"/> freed it.
/// </summary>
public sealed record FreedObjectAccessed(ThreadName Thread, string Object, string Field, string Access, string Op, string Function, string FreedBy) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} {Access}s {Object}->{Field} ({Op}) in {Function}: freed by {FreedBy}";
}

/// <summary>
/// lock_acquire() as lockdep sees it: <paramref name="Thread"/> is taking (or, for a trylock, has
/// taken) the sleeping lock <paramref name="Lock"/> of lock class <paramref name="Class"/>
/// (mmap_lock, vm_lock, i_mmap_rwsem). Reported before a blocking acquisition can wait, as lockdep
/// validates it.
/// </summary>
public sealed record LockAcquiring(ThreadName Thread, string Lock, LockClass Class, LockMode Mode, bool Trylock) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} {(Trylock ? "took" : "takes")} {Lock} ({Class}, {Mode.ToString().ToLowerInvariant()})";
}

/// <summary>lock_release(): <paramref name="Thread"/> releases <paramref name="Lock"/>.</summary>
public sealed record LockReleasing(ThreadName Thread, string Lock, LockClass Class) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} releases {Lock} ({Class})";
}

/// <summary>
/// A user-mode store of <paramref name="Thread"/> ORed <paramref name="Bits"/> into the word at
/// <paramref name="Address"/> of its process's memory, through a translation to page
/// <paramref name="Page"/>; <paramref name="Value"/> is the word after the store.
/// </summary>
public sealed record UserStored(ThreadName Thread, MmName Mm, ulong Address, ulong Bits, string Page, ulong Value) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} stores 0x{Bits:x} at 0x{Address:x} of {Mm} ({Page}, now 0x{Value:x})";
}

/// <summary>A user-mode load of <paramref name="Thread"/> read <paramref name="Value"/> at <paramref name="Address"/> of its process's memory, from page <paramref name="Page"/>.</summary>
public sealed record UserLoaded(ThreadName Thread, MmName Mm, ulong Address, string Page, ulong Value) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} loads 0x{Value:x} at 0x{Address:x} of {Mm} ({Page})";
}

/// <summary>
/// queue_folios_pte_range() (mm/mempolicy.c), the page walk of mbind(MPOL_MF_MOVE) under
/// mmap_lock held for write, scanned [<paramref name="Start"/>, <paramref name="End"/>) of
/// <paramref name="Vma"/> and queued <paramref name="Pages"/> for migration. The pages are moved
/// after the write section (do_mbind() calls migrate_pages() after mmap_write_unlock()), so a page
/// mapped into the range after the scan and before the section ends is left where it is.
/// </summary>
public sealed record PagesQueuedForMigration(ThreadName Thread, MmName Mm, VmaName Vma, ulong Start, ulong End, IReadOnlyList<string> Pages) : ProtocolEvent(Thread)
{
    public override string Describe() =>
        $"{Thread} queued {(Pages.Count == 0 ? "no page" : string.Join(", ", Pages))} of {Vma} [0x{Start:x}-0x{End:x}) for migration";
}

/// <summary>
/// __anon_vma_prepare() gave a VMA that had none its first anon_vma (found on a neighbour by
/// find_mergeable_anon_vma, or new), under the page table lock. <paramref name="Reused"/> says
/// whether it came from a neighbour.
/// </summary>
public sealed record AnonVmaPrepared(ThreadName Thread, MmName Mm, VmaName Vma, string AnonVma, bool Reused) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} set {Vma}->anon_vma = {AnonVma} ({(Reused ? "a neighbour's" : "new")}) in anon_vma_prepare";
}

/// <summary>
/// Not a kernel event: the harness hands the iteration the lock-class order the exploration has
/// learnt so far (lockdep's graph lives through a boot, not one iteration).
/// </summary>
public sealed record LockOrderCarriedOver(LockClassOrder Order) : ProtocolEvent("(harness)")
{
    public override string Describe() => $"iteration {Order.Iteration} starts from {Order.Start.Learnt.Count} learnt lock-order edge(s)";
}

/// <summary>
/// A PTE of <paramref name="Vma"/> now maps anonymous page <paramref name="Page"/>, which belongs
/// to anon_vma <paramref name="PageAnonVma"/> (folio->mapping); <paramref name="Linked"/> are the
/// anon_vmas the VMA is linked to (its anon_vma_chain) at that moment. The reverse map finds the
/// mapping only if the page's anon_vma is among them.
/// </summary>
public sealed record AnonPageMapped(ThreadName Thread, MmName Mm, VmaName Vma, ulong Address, string Page, string PageAnonVma, IReadOnlyList<string> Linked) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} mapped {Page} ({PageAnonVma}) at 0x{Address:x} in {Vma} of {Mm}";
}

/// <summary>
/// One side of a data race: <paramref name="Thread"/>'s <paramref name="Op"/> (load, store,
/// READ_ONCE, ...) of <paramref name="Location"/> in <paramref name="Function"/>, at trace step
/// <paramref name="Step"/> when a trace is being recorded (replay).
/// </summary>
public sealed record RacingAccess(ThreadName Thread, string Op, string Location, string Function, int? Step)
{
    public override string ToString() => $"{Thread} {Op} {Location} in {Function}" + (Step is { } s ? $" (step {s})" : string.Empty);
}

/// <summary>
/// A data race as LKMM and KCSAN define it, seen at <paramref name="Access"/>: it and
/// <paramref name="Earlier"/> touch one location from different threads, at least one stores, at
/// least one is plain, and neither happens before the other. Reported only under the LKMM model.
/// </summary>
public sealed record DataRace(ThreadName Thread, RacingAccess Access, RacingAccess Earlier) : ProtocolEvent(Thread)
{
    public override string Describe() => $"data race on {Access.Location}: {Access} races with {Earlier}";
}

/// <summary>
/// A store a load did not see (the memory model let the load return an older one): its value, the
/// thread that stored it, and its trace step (null when no trace is recorded, i.e. while exploring).
/// </summary>
public sealed record UnseenStore(ThreadName Thread, string Value, int? Step)
{
    public override string ToString() => $"{Thread}'s {Value}{(Step is { } s ? $" at step {s}" : string.Empty)}";
}

/// <summary>
/// A load of a VMA field page faults read (<paramref name="Field"/>: vm_flags, vm_start, vm_end,
/// vm_pgoff, vm_page_prot, anon_vma) returned <paramref name="Value"/>, an older store than the
/// coherence-latest: <paramref name="Unseen"/> are the newer stores it did not see, oldest first.
/// Reported only when that happens, so never under sequential consistency.
/// </summary>
public sealed record VmaFieldReadOlderStore(ThreadName Thread, MmName Mm, VmaName Vma, string Field, string Value, IReadOnlyList<UnseenStore> Unseen) : ProtocolEvent(Thread)
{
    public override string Describe() => $"{Thread} read {Vma}->{Field} = {Value}, an older store (not seen: {string.Join(", ", Unseen)})";
}
