namespace VmaLockVerify.Spec;

/// <summary>
/// The per-VMA lock as an executable abstract model, in the terms of the seed message
/// (shared/seed, Michal Hocko, January 2023): "write lock" marks a VMA as potentially modified
/// in the current mmap-write section; "write unlock" is a batch release of every mark; a read
/// lock needs the VMA unmarked. It knows nothing of counters, rw_semaphores or memory: only which
/// thread holds what, and which VMAs are marked and attached.
///
/// <see cref="Apply"/> takes one <see cref="ProtocolEvent"/>, says whether the protocol allows
/// that outcome in the current abstract state, and moves to the next state. Monitors query the
/// state (before applying) to state their own properties.
/// </summary>
public sealed class ProtocolSpec
{
    private readonly Dictionary<MmName, MmState> mms = [];
    private readonly Dictionary<VmaName, VmaState> vmas = [];

    /// <summary>Abstract state of one address space.</summary>
    public sealed class MmState
    {
        /// <summary>The thread holding mmap_lock for write, if any.</summary>
        public ThreadName? Writer { get; internal set; }

        /// <summary>Threads holding mmap_lock for read.</summary>
        public HashSet<ThreadName> Readers { get; } = [];

        /// <summary>Abstract sequence: how many mmap-write sections have ended (by unlock or downgrade).</summary>
        public long Sequence { get; internal set; }

        /// <summary>VMAs write-marked in the current sequence.</summary>
        public HashSet<VmaName> Marked { get; } = [];
    }

    /// <summary>Abstract state of one VMA.</summary>
    public sealed class VmaState
    {
        public bool Detached { get; internal set; }

        /// <summary>Whether the VMA is in its mm's tree (visible to lock_vma_under_rcu).</summary>
        public bool InTree { get; internal set; }

        /// <summary>Whether the VMA was ever in a tree; fields of a never-published VMA are private to its creator.</summary>
        public bool EverPublished { get; internal set; }

        public bool Freed { get; internal set; }

        /// <summary>The mm it belongs to, once an event named it.</summary>
        public MmName? Mm { get; internal set; }

        /// <summary>Its sticky vm_flags bits (<see cref="VmSticky"/>) as last set or stored.</summary>
        public ulong Sticky { get; internal set; }

        /// <summary>Whether this VMA's memory was a freed VMA before (SLAB_TYPESAFE_BY_RCU): a reader may have found it as the old one.</summary>
        public bool Recycled { get; internal set; }

        /// <summary>Threads holding the VMA read lock (vma_start_read succeeded, vma_end_read not yet called).</summary>
        public HashSet<ThreadName> Readers { get; } = [];

        /// <summary>Per field page faults read: the latest store a write section made to it, and the mm's sequence (ended sections) when it did.</summary>
        internal Dictionary<string, SectionStore> SectionStores { get; } = new(StringComparer.Ordinal);

        /// <summary>Per reader: the section stores that had ended when its read lock succeeded (what it must see).</summary>
        internal Dictionary<ThreadName, List<SectionStore>> EndedAtReadLock { get; } = [];
    }

    /// <summary>
    /// A write section's store to a VMA field: by <paramref name="Thread"/>, while <paramref name="Mm"/>'s
    /// sequence was <paramref name="Sequence"/>; -1 once a proposal released the VMA's write lock
    /// early (vma_end_write, vma_downgrade_write): ended, whatever the sequence.
    /// </summary>
    internal sealed record SectionStore(string Field, string Value, ThreadName Thread, MmName Mm, long Sequence);

    /// <summary>
    /// What b1f02b95758d restored: a fault holding a VMA's read lock never reads a field value
    /// that a write section which ended before its read lock succeeded had already overwritten
    /// (vma_end_write_all()'s release pairs with vma_start_read()'s acquire, so every store of an
    /// ended section is visible once the read lock is taken). Judged on a load the memory model
    /// reports as having returned an older store; null when the reader does not hold the VMA's
    /// read lock, or the field still has the value the last ended section left.
    /// </summary>
    public string? OverwrittenValueRead(VmaFieldReadOlderStore e)
    {
        var vma = this.Vma(e.Vma);
        if (!vma.EndedAtReadLock.TryGetValue(e.Thread, out var ended) || ended.FirstOrDefault(s => s.Field == e.Field) is not { } store || store.Value == e.Value)
        {
            return null;
        }

        var how = store.Sequence < 0 ? $"{e.Vma}'s write lock released early" : $"{store.Mm}->mm_lock_seq advanced";
        return $"{e.Thread} holds {e.Vma}'s read lock and read {e.Vma}->{e.Field} = {e.Value}, but {store.Thread}'s write section, which ended " +
               $"({how}) before {e.Thread}'s vma_start_read({e.Vma}) succeeded, had overwritten it with {store.Value}";
    }

    /// <summary>Per VMA, the ranges it has had since it was made; per open /proc/PID/maps file, the end of the last line it showed.</summary>
    private readonly Dictionary<VmaName, VmaRanges> ranges = [];
    private readonly Dictionary<(ThreadName Thread, string File), ulong> shownUpTo = [];

    /// <summary>A VMA's current vm_start and vm_end (as stored), and every (vm_start, vm_end) pair it has had since it was made.</summary>
    private sealed class VmaRanges(ulong start, ulong end)
    {
        public ulong Start { get; set; } = start;

        public ulong End { get; set; } = end;

        public HashSet<(ulong Start, ulong End)> Had { get; } = [(start, end)];

        public void Store(string field, ulong value)
        {
            if (field == "vm_start")
            {
                this.Start = value;
            }
            else if (field == "vm_end")
            {
                this.End = value;
            }
            else
            {
                return;
            }

            this.Had.Add((this.Start, this.End));
        }
    }

    private static string Hex(ulong value) => $"0x{value:x}";

    /// <summary>
    /// Whether a reported range is one the VMA had at some instant: a reader that read vm_start
    /// of one version and vm_end of another reports a torn range. Null when it is not torn (or
    /// the VMA was never seen made).
    /// </summary>
    public string? TornRange(VmaRangeReported e) =>
        !this.ranges.TryGetValue(e.Vma, out var r) || r.Had.Contains((e.Start, e.End))
            ? null
            : $"{e.Thread}'s {e.Function} reported {e.Vma} as [{Hex(e.Start)}-{Hex(e.End)}), a range {e.Vma} never had " +
              $"(it has had {string.Join(", ", r.Had.Select(h => $"[{Hex(h.Start)}-{Hex(h.End)})"))}): vm_start and vm_end come from different moments";

    /// <summary>Whether the VMA <paramref name="name"/> (<paramref name="vma"/>) is in <paramref name="mm"/>'s tree now, with a range (its last stored vm_start, vm_end) that overlaps [<paramref name="start"/>, <paramref name="end"/>).</summary>
    private bool MapsAny(VmaName name, VmaState vma, MmName mm, ulong start, ulong end) =>
        vma.Mm == mm && vma.InTree && this.ranges.TryGetValue(name, out var r) && r.Start < end && start < r.End;

    /// <summary>
    /// Whether a /proc/PID/maps line ends at or below the line before it in the same read of the
    /// file: the iteration went back (proc_get_vma() moves its position to each shown VMA's
    /// vm_end, and lock_next_vma() must never return a VMA behind it). Null when it moved on.
    /// </summary>
    public string? ReportWentBack(VmaRangeReported e) =>
        e.File is not null && this.shownUpTo.TryGetValue((e.Thread, e.File), out var last) && e.End <= last
            ? $"{e.Thread}'s {e.Function} showed {e.Vma} [{Hex(e.Start)}-{Hex(e.End)}) in {e.File} after a line ending at {Hex(last)}: the iteration went back"
            : null;

    /// <summary>
    /// Whether a lookup's retry is paid for by a writer's progress: the VMA it found has been
    /// detached, taken out of the tree or freed since, or its memory is a recycled VMA (the lookup
    /// may have found the old one, detached before it was made anew: names follow the memory, so
    /// such a retry is given the benefit of the doubt). A retry on a VMA that is still attached
    /// can repeat for as long as a writer holds the VMA (the loop spins under RCU, and nothing
    /// bounds it). Null when the retry is paid for.
    /// </summary>
    public string? RetryWithoutProgress(VmaLookupRetried e)
    {
        var vma = this.Vma(e.Vma);
        return vma.Detached || !vma.InTree || vma.Freed || vma.Recycled
            ? null
            : $"{e.Thread}'s {e.Function} retries its lookup although {e.Vma} is attached and in {e.Mm}'s tree: no writer's progress pays for the retry, which repeats for as long as a writer holds {e.Vma}";
    }

    /// <summary>
    /// VM_STICKY, include/linux/mm.h (v6.19+): the vm_flags bits a merged VMA gets if either VMA
    /// had them. The kernel's are VM_SOFTDIRTY and VM_MAYBE_GUARD; the port tracks no soft-dirty
    /// state, so VM_MAYBE_GUARD (bit 11) alone.
    /// </summary>
    public const ulong VmSticky = 0x800;

    /// <summary>The size of a page: guard markers are tracked per page.</summary>
    private const ulong PageSize = 0x1000;

    /// <summary>Per mm, the pages whose page tables hold guard markers (MADV_GUARD_INSTALL), until no VMA maps them at a section's end (munmap zaps them).</summary>
    private readonly Dictionary<MmName, SortedSet<ulong>> guardPages = [];

    private string? OnGuardRegionInstalled(GuardRegionInstalled e)
    {
        var pages = this.guardPages.TryGetValue(e.Mm, out var set) ? set : this.guardPages[e.Mm] = [];
        for (var page = e.Start; page < e.End; page += PageSize)
        {
            pages.Add(page);
        }

        return (this.Vma(e.Vma).Sticky & VmSticky) == 0 ? $"{e.Thread} installed guard markers in {e.Vma} without setting VM_MAYBE_GUARD first" : null;
    }

    /// <summary>Cleared guard markers no longer need VM_MAYBE_GUARD on the VMAs that map their pages.</summary>
    private string? OnGuardRegionRemoved(GuardRegionRemoved e)
    {
        if (this.guardPages.TryGetValue(e.Mm, out var pages))
        {
            pages.RemoveWhere(page => page >= e.Start && page < e.End);
        }

        return null;
    }

    /// <summary>At a write section's end: the guard pages no VMA maps any more were unmapped with their markers.</summary>
    private void DropUnmappedGuardPages(MmName mm)
    {
        if (this.guardPages.TryGetValue(mm, out var pages))
        {
            pages.RemoveWhere(page => !this.vmas.Any(v => this.MapsAny(v.Key, v.Value, mm, page, page + PageSize)));
        }
    }

    /// <summary>The VMAs installed at boot: their mm and sticky flags, for their state when first touched.</summary>
    private readonly Dictionary<VmaName, (MmName? Mm, ulong Sticky)> atBoot = [];

    /// <summary>Per mm whose mmap_lock a writer holds: the VMAs its section made, and those it took out of the tree with sticky flags set (their flags and last range then).</summary>
    private readonly Dictionary<MmName, MergeWatchState> mergeWatch = [];

    private sealed class MergeWatchState
    {
        public HashSet<VmaName> Created { get; } = [];

        public List<(VmaName Vma, ulong Sticky, (ulong Start, ulong End) Range)> Removed { get; } = [];
    }

    /// <summary>
    /// Whether a sticky flag (VM_MAYBE_GUARD: "mapped page tables may contain metadata not
    /// described by the VMA", include/linux/mm.h) was lost: a store to vm_flags that clears it
    /// (nothing in the port's kernels clears it), or a write section that took a VMA having it
    /// out of the tree while a VMA that was there before the section now covers part of its range
    /// without it (a merge must set on the merged VMA every sticky flag either VMA had), or a
    /// write section after which a VMA maps a page with guard markers without the flag (a split
    /// that hands the page to a new VMA, too). Judged when the section ends (mmap_write_unlock()
    /// or mmap_write_downgrade()), after the merge's last vm_flags_set(). Null when nothing was lost.
    /// </summary>
    public string? LostStickyFlag(ProtocolEvent e) => e switch
    {
        VmaFieldWritten { Field: "vm_flags", Raw: { } flags } w when this.vmas.TryGetValue(w.Vma, out var vma) && (vma.Sticky & ~flags) != 0 =>
            $"{w.Thread} stored {w.Vma}->vm_flags = {w.Value}, clearing VM_MAYBE_GUARD, a sticky flag that nothing clears",
        MmapLockReleased { Mode: LockMode.Write } r => this.StickyLostByMerge(r.Thread, r.Mm),
        MmapLockDowngraded d => this.StickyLostByMerge(d.Thread, d.Mm),
        _ => null,
    };

    private string? StickyLostByMerge(ThreadName thread, MmName mm)
    {
        if (!this.mergeWatch.TryGetValue(mm, out var watch))
        {
            return null;
        }

        foreach (var (removed, sticky, range) in watch.Removed)
        {
            foreach (var (name, vma) in this.vmas)
            {
                if (name != removed && !watch.Created.Contains(name) && this.MapsAny(name, vma, mm, range.Start, range.End) && (vma.Sticky & sticky) != sticky)
                {
                    var now = this.ranges[name];
                    return $"{thread}'s write section took {removed} out of {mm}->mm_mt while {removed} had VM_MAYBE_GUARD set, and {name}, which now covers " +
                           $"[{Hex(Math.Max(range.Start, now.Start))}-{Hex(Math.Min(range.End, now.End))}) of {removed}'s range, does not have it: " +
                           "the merge lost a sticky flag (VM_STICKY: the merged VMA gets every sticky flag either VMA had), and the guard markers in those page tables are no longer described by any VMA";
                }
            }
        }

        // Every page with guard markers that a VMA still maps: that VMA must say it may hold them.
        foreach (var page in this.guardPages.GetValueOrDefault(mm) ?? [])
        {
            if (this.vmas.FirstOrDefault(v => this.MapsAny(v.Key, v.Value, mm, page, page + PageSize)) is { Key: { } name, Value: { } vma }
                && (vma.Sticky & VmSticky) == 0)
            {
                return $"{thread}'s write section left {name} mapping [{Hex(page)}-{Hex(page + PageSize)}), whose page tables hold guard markers, without VM_MAYBE_GUARD: " +
                       "the flag that says a VMA may hold guard regions was not handed on with them";
            }
        }

        return null;
    }

    /// <summary>Per mm whose mmap_lock a writer holds: the ranges its section's page walk queued for migration (mbind()).</summary>
    private readonly Dictionary<MmName, List<PagesQueuedForMigration>> queuedForMigration = [];

    private string? OnPagesQueued(PagesQueuedForMigration e)
    {
        var queued = this.queuedForMigration.TryGetValue(e.Mm, out var list) ? list : this.queuedForMigration[e.Mm] = [];
        queued.Add(e);
        return this.Mm(e.Mm).Writer == e.Thread ? null : $"{e.Thread} queued pages of {e.Vma} for migration without holding {e.Mm}->mmap_lock for write";
    }

    /// <summary>
    /// What 49b0638502da restored: mbind()'s page walk (queue_pages_range()) runs under mmap_lock
    /// held for write and moves what it queued only after the section ends, so no page may be
    /// mapped into a range it scanned until then: one a page fault maps there after the scan was
    /// never queued and is left out of the migration. Since per-VMA locks, mmap_lock alone does
    /// not keep faults out; the walk must write-lock each VMA (PGWALK_WRLOCK). Null when the page
    /// is mapped outside every range scanned in the current section.
    /// </summary>
    public string? PageMissedByMigration(AnonPageMapped e) =>
        this.queuedForMigration.GetValueOrDefault(e.Mm)?.FirstOrDefault(q => q.Thread != e.Thread && e.Address >= q.Start && e.Address < q.End) is { } scan
            ? $"{e.Thread} mapped {e.Page} at 0x{e.Address:x} in {e.Vma} after {scan.Thread}'s mbind() page walk had scanned [0x{scan.Start:x}-0x{scan.End:x}) of {scan.Vma} " +
              $"and before its mmap_lock write section ended: the page was never queued, so the migration leaves it behind"
            : null;

    /// <summary>mmgrab() references held, per thread: (thread, mm) pairs, counted.</summary>
    private readonly Dictionary<(ThreadName Thread, MmName Mm), int> grabs = [];
    private readonly Dictionary<(MmName Mm, ulong Address), Dictionary<ulong, UserStored>> userMemory = [];

    /// <summary>Whether the thread holds an mmgrab() reference on the mm.</summary>
    public bool HasGrabbed(ThreadName thread, MmName mm) => this.grabs.GetValueOrDefault((thread, mm)) > 0;

    /// <summary>
    /// Judges a load against the abstract user memory, which keeps, for each word of each
    /// process, the bits its threads' completed stores put there and the store that put each.
    /// Stores only add bits, so the load must see every one of them (the port's copy-on-write
    /// must never lose one). Null when it does; else which store is lost.
    /// </summary>
    public string? LostStore(UserLoaded load) =>
        this.userMemory.GetValueOrDefault((load.Mm, load.Address))?.FirstOrDefault(s => (load.Value & s.Key) != s.Key).Value is { } lost
            ? $"{load.Thread} loads 0x{load.Value:x} at 0x{load.Address:x} of {load.Mm} from {load.Page}, but {lost.Thread}'s completed store of 0x{lost.Bits:x} " +
              $"went to {lost.Page}{(lost.Page == load.Page ? string.Empty : $", a page {load.Mm} no longer maps there")}: the store is lost"
            : null;

    /// <summary>
    /// The abstract protocol state as a 64-bit digest, for coverage: per address space who holds
    /// mmap_lock and how and which VMAs are marked; per VMA whether it is detached, in the tree or
    /// freed and who holds its read lock; which threads are inside a fault. Thread names are made
    /// symmetric by <paramref name="symmetric"/> (interchangeable threads map to one name), and
    /// sets of them become sorted lists. Counters (mm_lock_seq) and user memory are left out: they
    /// grow with the run and would make every state new.
    /// </summary>
    public long AbstractState(Func<ThreadName, ThreadName> symmetric)
    {
        var text = new System.Text.StringBuilder();
        string Threads(IEnumerable<ThreadName> names) => string.Join(',', names.Select(symmetric).Order());
        foreach (var (name, mm) in this.mms.OrderBy(kv => kv.Key))
        {
            text.Append(name).Append(":w=").Append(mm.Writer is not { } writer ? "-" : symmetric(writer)).Append(";r=").Append(Threads(mm.Readers))
                .Append(";m=").Append(string.Join(',', mm.Marked.Order())).Append('|');
        }

        foreach (var (name, vma) in this.vmas.OrderBy(kv => kv.Key))
        {
            text.Append(name).Append(':').Append(vma.Detached ? 'd' : '-').Append(vma.InTree ? 't' : '-').Append(vma.Freed ? 'f' : '-')
                .Append(";r=").Append(Threads(vma.Readers)).Append('|');
        }

        text.Append("faults=").Append(Threads(this.FaultsInProgress));
        var hash = 14695981039346656037UL; // FNV-1a
        foreach (var c in text.ToString())
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return (long)hash;
    }

    /// <summary>Threads inside a page fault, by thread name.</summary>
    public HashSet<ThreadName> FaultsInProgress { get; } = [];

    public MmState Mm(MmName mm)
    {
        if (!this.mms.TryGetValue(mm, out var state))
        {
            state = new MmState();
            this.mms[mm] = state;
        }

        return state;
    }

    public VmaState Vma(VmaName vma)
    {
        if (!this.vmas.TryGetValue(vma, out var state))
        {
            var boot = this.atBoot.GetValueOrDefault(vma);
            state = new VmaState { InTree = true, EverPublished = true, Mm = boot.Mm, Sticky = boot.Sticky };
            this.vmas[vma] = state;
        }

        return state;
    }

    /// <summary>
    /// Whether the VMA is write-marked in the current sequence of <paramref name="mm"/>, the mm
    /// the reader looked it up in. (From v6.15 a recycled VMA may belong to another mm by the time
    /// the reader locks it; lock_vma_under_rcu() must then reject it, which
    /// <see cref="FaultLockedVma"/> checks.)
    /// </summary>
    public bool IsWriteMarked(MmName mm, VmaName vma) => this.Mm(mm).Marked.Contains(vma);

    /// <summary>Whether any thread holds a VMA read lock or is inside a page fault.</summary>
    public bool AnyReaderActive => this.FaultsInProgress.Count > 0 || this.vmas.Values.Any(v => v.Readers.Count > 0);

    /// <summary>The VMAs whose read lock the thread holds.</summary>
    public IEnumerable<VmaName> VmasReadLockedBy(ThreadName thread) =>
        this.vmas.Where(kv => kv.Value.Readers.Contains(thread)).Select(kv => kv.Key);

    /// <summary>
    /// Checks that the protocol allows this outcome now, then applies it. Returns null when it is
    /// allowed, else the reason it is not (the state is updated either way, so later events are
    /// judged against what actually happened).
    /// </summary>
    public string? Apply(ProtocolEvent e)
    {
        return e switch
        {
            MmapLockAcquired a => this.OnMmapLockAcquired(a),
            MmapLockReleased r => this.OnMmapLockReleased(r),
            MmapLockDowngraded d => this.OnDowngraded(d),
            MmSequenceBumped b => this.OnSequenceBumped(b),
            VmaWriteMarked m => this.OnWriteMarked(m),
            VmaStartWriteReturned w => this.OnStartWriteReturned(w),
            VmaWriteReleased r => this.OnWriteReleased(r.Thread, r.Mm, r.Vma, "vma_end_write"),
            VmaWriteDowngraded d => this.OnWriteReleased(d.Thread, d.Mm, d.Vma, "vma_downgrade_write"),
            VmaStartReadReturned r => this.OnStartReadReturned(r),
            VmaReadUnlocked u => this.OnReadUnlocked(u),
            VmaDetachedChanged d => this.OnDetachedChanged(d),
            VmaTreeChanged t => this.OnTreeChanged(t),
            VmaFieldWritten f => this.OnFieldWritten(f),
            VmaFlagSetAtomic a => this.OnFlagSetAtomic(a),
            GuardRegionInstalled g => this.OnGuardRegionInstalled(g),
            GuardRegionRemoved g => this.OnGuardRegionRemoved(g),
            FaultStarted f => this.OnFaultStarted(f),
            FaultLockedVma l => this.OnFaultLockedVma(l),
            FaultFellBack => null,
            FaultCompleted c => this.OnFaultCompleted(c),
            VmaFreed f => this.OnFreed(f),
            VmaCreated c => this.OnCreated(c),
            VmaInstalledAtBoot b => this.OnInstalledAtBoot(b),
            VmaLookupRetried => null, // a bound on a loop, not a lock outcome: NoRetryWithoutProgress's business
            VmaRangeReported r => this.OnRangeReported(r),
            MmGrabbed g => this.OnGrabbed(g),
            MmDropped d => this.OnDropped(d),
            VmaReferenceDropping p => this.OnReferenceDropping(p),
            LockAcquiring or LockReleasing or LockOrderCarriedOver => null, // lock classes and their order are LockOrder's (lockdep's) business
            DataRace => null, // a memory-model fact, not a protocol outcome: NoDataRace's (KCSAN's) business
            MightSleepUnderRcu => null, // a calling-context rule of RCU, not a lock outcome: NoSleepUnderRcu's (might_sleep()'s) business
            FreedObjectAccessed a => $"{a.Thread} {a.Access}s {a.Object}->{a.Field} after {a.FreedBy} freed it",
            AnonVmaPrepared p => this.OnAnonVmaPrepared(p),
            AnonPageMapped m => AnonPageUnreachable(m) ?? this.PageMissedByMigration(m),
            PagesQueuedForMigration q => this.OnPagesQueued(q),
            UserStored s => this.OnUserStored(s),
            UserLoaded l => this.LostStore(l),
            VmaFieldReadOlderStore => null, // judged by NoStaleVmaFieldUnderReadLock through OverwrittenValueRead, so a known finding of it can be left out without the rest of the Spec
            _ => $"the specification has no rule for {e.GetType().Name}",
        };
    }

    /// <summary>
    /// A VMA's first anon_vma may be set by a page fault without the VMA write lock (readers
    /// tolerate NULL becoming set), but only under mmap_lock: find_mergeable_anon_vma() looks at
    /// the neighbouring VMAs, which only mmap_lock keeps in place (657b5146955e).
    /// </summary>
    private string? OnAnonVmaPrepared(AnonVmaPrepared e)
    {
        var mm = this.Mm(e.Mm);
        return mm.Writer == e.Thread || mm.Readers.Contains(e.Thread)
            ? null
            : $"{e.Thread} ran anon_vma_prepare({e.Vma}) without holding {e.Mm}->mmap_lock: the neighbours find_mergeable_anon_vma looked at were not stable";
    }

    /// <summary>
    /// The reverse map must find every mapping of an anonymous page: the VMA mapping it is linked
    /// to the page's anon_vma (docs/protocol.md 8, B1's route in fb49c455323f's message). Null when it is.
    /// </summary>
    public static string? AnonPageUnreachable(AnonPageMapped e) =>
        e.Linked.Contains(e.PageAnonVma, StringComparer.Ordinal)
            ? null
            : $"{e.Vma} of {e.Mm} maps {e.Page} at 0x{e.Address:x}, a page of {e.PageAnonVma}, but {e.Vma} is linked " +
              $"{(e.Linked.Count == 0 ? "to no anon_vma" : "only to " + string.Join(", ", e.Linked))}: rmap walks of {e.Page} miss this mapping";

    private string? OnUserStored(UserStored e)
    {
        if (!this.userMemory.TryGetValue((e.Mm, e.Address), out var stores))
        {
            stores = [];
            this.userMemory[(e.Mm, e.Address)] = stores;
        }

        for (var bit = 1UL; bit != 0; bit <<= 1)
        {
            if ((e.Bits & bit) != 0)
            {
                stores[bit] = e;
            }
        }

        return null;
    }

    private string? OnMmapLockAcquired(MmapLockAcquired e)
    {
        var mm = this.Mm(e.Mm);
        string? verdict = null;
        if (e.Mode == LockMode.Write)
        {
            if (mm.Writer is not null || mm.Readers.Count > 0)
            {
                verdict = $"mmap_write_lock succeeded for {e.Thread} while {Holders(mm)} held {e.Mm}->mmap_lock";
            }

            mm.Writer = e.Thread;
            this.mergeWatch[e.Mm] = new MergeWatchState();
        }
        else
        {
            if (mm.Writer is not null)
            {
                verdict = $"mmap_read_lock succeeded for {e.Thread} while {mm.Writer} held {e.Mm}->mmap_lock for write";
            }

            mm.Readers.Add(e.Thread);
        }

        return verdict;
    }

    private string? OnMmapLockReleased(MmapLockReleased e)
    {
        var mm = this.Mm(e.Mm);
        if (e.Mode == LockMode.Write)
        {
            if (mm.Writer != e.Thread)
            {
                return $"{e.Thread} released {e.Mm}->mmap_lock for write without holding it";
            }

            mm.Writer = null;
            this.WriteSectionEnded(e.Mm);
            if (mm.Marked.Count > 0)
            {
                var left = string.Join(", ", mm.Marked);
                mm.Marked.Clear();
                return $"mmap_write_unlock by {e.Thread} left {left} write-locked (vma_end_write_all must release every VMA write lock)";
            }

            return null;
        }

        return mm.Readers.Remove(e.Thread) ? null : $"{e.Thread} released {e.Mm}->mmap_lock for read without holding it";
    }

    private string? OnDowngraded(MmapLockDowngraded e)
    {
        var mm = this.Mm(e.Mm);
        string? verdict = mm.Writer != e.Thread ? $"{e.Thread} downgraded {e.Mm}->mmap_lock without holding it for write" : null;
        mm.Writer = null;
        mm.Readers.Add(e.Thread);
        this.WriteSectionEnded(e.Mm);
        if (verdict is null && mm.Marked.Count > 0)
        {
            verdict = $"mmap_write_downgrade by {e.Thread} left {string.Join(", ", mm.Marked)} write-locked";
        }

        mm.Marked.Clear();
        return verdict;
    }

    /// <summary>
    /// The end of <paramref name="mm"/>'s write section (mmap_write_unlock() or mmap_write_downgrade()):
    /// what the section's merges removed and its page walk scanned no longer matter, and the guard
    /// pages no VMA maps went with their markers.
    /// </summary>
    private void WriteSectionEnded(MmName mm)
    {
        this.mergeWatch.Remove(mm);
        this.queuedForMigration.Remove(mm);
        this.DropUnmappedGuardPages(mm);
    }

    private string? OnSequenceBumped(MmSequenceBumped e)
    {
        var mm = this.Mm(e.Mm);
        mm.Sequence++;
        mm.Marked.Clear();
        return mm.Writer == e.Thread ? null : $"{e.Thread} ended the write sequence of {e.Mm} without holding mmap_lock for write";
    }

    private string? OnWriteMarked(VmaWriteMarked e)
    {
        var mm = this.Mm(e.Mm);
        mm.Marked.Add(e.Vma);
        if (mm.Writer != e.Thread)
        {
            return $"{e.Thread} write-locked {e.Vma} without holding {e.Mm}->mmap_lock for write";
        }

        var readers = this.Vma(e.Vma).Readers.Where(r => r != e.Thread).ToList();
        return readers.Count == 0 ? null : $"{e.Thread} write-locked {e.Vma} while {string.Join(", ", readers)} held its read lock";
    }

    /// <summary>
    /// A proposal's release of one mark before the section ends (vma_end_write), or its downgrade
    /// to a read hold (vma_downgrade_write): only by the writer, only of a marked VMA. What the
    /// section stored to the VMA counts as ended from here on (a reader that locks it next must
    /// see it), and a downgrade leaves the writer holding the VMA's read lock.
    /// </summary>
    private string? OnWriteReleased(ThreadName thread, MmName mmName, VmaName vmaName, string function)
    {
        var mm = this.Mm(mmName);
        var vma = this.Vma(vmaName);
        var wasMarked = mm.Marked.Remove(vmaName);
        foreach (var store in vma.SectionStores.Values.Where(s => s.Mm == mmName && s.Sequence == mm.Sequence).ToList())
        {
            vma.SectionStores[store.Field] = store with { Sequence = -1 };
        }

        if (function == "vma_downgrade_write")
        {
            vma.Readers.Add(thread);
            vma.EndedAtReadLock[thread] = [.. vma.SectionStores.Values.Where(s => s.Sequence < this.Mm(s.Mm).Sequence)];
        }

        if (mm.Writer != thread)
        {
            return $"{thread} called {function}({vmaName}) without holding {mmName}->mmap_lock for write";
        }

        return wasMarked ? null : $"{thread} called {function}({vmaName}), but {vmaName} is not write-locked in the current sequence";
    }

    private string? OnStartWriteReturned(VmaStartWriteReturned e)
    {
        var mm = this.Mm(e.Mm);
        if (mm.Writer != e.Thread)
        {
            return $"vma_start_write({e.Vma}) returned to {e.Thread}, which does not hold {e.Mm}->mmap_lock for write";
        }

        if (!mm.Marked.Contains(e.Vma))
        {
            return $"vma_start_write({e.Vma}) returned but {e.Vma} is not write-locked in the current sequence";
        }

        return null;
    }

    private string? OnStartReadReturned(VmaStartReadReturned e)
    {
        if (!e.Locked)
        {
            return null; // a read lock may always fail spuriously
        }

        var vma = this.Vma(e.Vma);
        vma.Readers.Add(e.Thread);
        vma.EndedAtReadLock[e.Thread] = [.. vma.SectionStores.Values.Where(s => s.Sequence < this.Mm(s.Mm).Sequence)];
        return this.IsWriteMarked(e.Mm, e.Vma)
            ? $"vma_start_read({e.Vma}) succeeded for {e.Thread} while {e.Vma} is write-locked in the current sequence"
            : null;
    }

    private string? OnReadUnlocked(VmaReadUnlocked e)
    {
        var vma = this.Vma(e.Vma);
        vma.EndedAtReadLock.Remove(e.Thread);
        return vma.Readers.Remove(e.Thread) ? null : $"vma_end_read({e.Vma}) by {e.Thread}, which does not hold its read lock";
    }

    private string? OnDetachedChanged(VmaDetachedChanged e)
    {
        var vma = this.Vma(e.Vma);
        vma.Detached = e.Detached;
        if (e.Detached && !this.IsWriteMarked(e.Mm, e.Vma))
        {
            return $"{e.Thread} detached {e.Vma} without write-locking it (only a write-locked VMA may be detached)";
        }

        return null;
    }

    private string? OnTreeChanged(VmaTreeChanged e)
    {
        var vma = this.Vma(e.Vma);
        vma.Mm = e.Mm;
        if (!e.Inserted && vma.Sticky != 0 && this.ranges.TryGetValue(e.Vma, out var range))
        {
            this.mergeWatch.GetValueOrDefault(e.Mm)?.Removed.Add((e.Vma, vma.Sticky, (range.Start, range.End))); // the writer's section, if one is open
        }

        var firstPublication = e.Inserted && !vma.EverPublished;
        vma.InTree = e.Inserted;
        vma.EverPublished |= e.Inserted;
        if (this.Mm(e.Mm).Writer != e.Thread)
        {
            return $"{e.Thread} changed {e.Mm}->mm_mt without holding mmap_lock for write";
        }

        // A complete new VMA may be published unlocked; a published one changes only write-locked.
        return firstPublication || this.IsWriteMarked(e.Mm, e.Vma)
            ? null
            : $"{e.Thread} {(e.Inserted ? "changed the range of" : "removed")} {e.Vma} in the tree without write-locking it first";
    }

    private string? OnCreated(VmaCreated e)
    {
        this.vmas[e.Vma] = new VmaState { Recycled = e.Recycled, Mm = e.Mm, Sticky = e.Flags & VmSticky };
        this.mergeWatch.GetValueOrDefault(e.Mm)?.Created.Add(e.Vma);
        this.ranges[e.Vma] = new VmaRanges(e.Start, e.End);
        return null;
    }

    private string? OnInstalledAtBoot(VmaInstalledAtBoot e)
    {
        // Its state is made on its first event (Vma()), as the abstract states have always counted it.
        this.atBoot[e.Vma] = (e.Mm, e.Flags & VmSticky);
        this.ranges[e.Vma] = new VmaRanges(e.Start, e.End);
        return null;
    }

    /// <summary>
    /// A reader reports a VMA's range only while the range cannot change under it: holding the
    /// VMA's read lock (the per-VMA-lock readers of /proc/PID/maps and PROCMAP_QUERY, 6.17+) or
    /// the mm's mmap_lock (their fallback, and every reader before them).
    /// </summary>
    private string? OnRangeReported(VmaRangeReported e)
    {
        if (e.File is not null)
        {
            this.shownUpTo[(e.Thread, e.File)] = e.End;
        }

        var mm = this.Mm(e.Mm);
        var locked = (this.vmas.TryGetValue(e.Vma, out var vma) && vma.Readers.Contains(e.Thread)) || mm.Readers.Contains(e.Thread) || mm.Writer == e.Thread;
        return locked ? null : $"{e.Thread}'s {e.Function} read {e.Vma}'s range holding neither its read lock nor {e.Mm}->mmap_lock";
    }

    private string? OnFieldWritten(VmaFieldWritten e)
    {
        if (e.Raw is { } raw)
        {
            this.ranges.GetValueOrDefault(e.Vma)?.Store(e.Field, raw);
        }

        var vma = this.Vma(e.Vma);
        vma.Mm = e.Mm;
        if (e is { Field: "vm_flags", Raw: { } flags })
        {
            vma.Sticky = flags & VmSticky;
        }
        if (!vma.EverPublished)
        {
            return null; // a new VMA is private to its creator until it is inserted
        }

        vma.SectionStores[e.Field] = new SectionStore(e.Field, e.Value, e.Thread, e.Mm, this.Mm(e.Mm).Sequence);

        if (!this.IsWriteMarked(e.Mm, e.Vma))
        {
            return $"{e.Thread} changed {e.Vma}->{e.Field} without write-locking {e.Vma} in the current sequence";
        }

        var readers = vma.Readers.Where(r => r != e.Thread).ToList();
        return readers.Count == 0 ? null : $"{e.Thread} changed {e.Vma}->{e.Field} while {string.Join(", ", readers)} held its read lock";
    }

    /// <summary>
    /// VM_ATOMIC_SET_ALLOWED, include/linux/mm.h (v6.19+): the vm_flags bits vma_set_atomic_flag()
    /// may set under a VMA or mmap read lock. VM_MAYBE_GUARD (bit 11) alone.
    /// </summary>
    public const ulong VmAtomicSetAllowed = 0x800;

    /// <summary>
    /// The one vm_flags change that needs no VMA write lock: an atomic set of bits of
    /// VM_ATOMIC_SET_ALLOWED (nothing cleared, nothing else set) by a thread that holds the VMA
    /// stable, by its read lock or mm->mmap_lock (vma_assert_stabilised()). A published VMA's
    /// other readers see the bit or not; the flag's readers that matter take the write lock.
    /// </summary>
    private string? OnFlagSetAtomic(VmaFlagSetAtomic e)
    {
        var vma = this.Vma(e.Vma);
        if (!vma.EverPublished)
        {
            return null;
        }

        vma.Sticky |= e.New & VmSticky;
        var set = e.New & ~e.Old;
        if ((e.Old & ~e.New) != 0 || (set & ~VmAtomicSetAllowed) != 0)
        {
            return $"{e.Thread} changed {e.Vma}->vm_flags from 0x{e.Old:x} to 0x{e.New:x} by an atomic set: only VM_MAYBE_GUARD (0x{VmAtomicSetAllowed:x}) may be set so";
        }

        var mm = this.Mm(e.Mm);
        var stable = vma.Readers.Contains(e.Thread) || mm.Readers.Contains(e.Thread) || mm.Writer == e.Thread;
        return stable ? null : $"{e.Thread} set a bit of {e.Vma}->vm_flags holding neither its read lock nor {e.Mm}->mmap_lock";
    }

    private string? OnFaultStarted(FaultStarted e) =>
        this.FaultsInProgress.Add(e.Thread) ? null : $"{e.Thread} started a page fault inside another one";

    private string? OnFaultLockedVma(FaultLockedVma e)
    {
        var vma = this.Vma(e.Vma);
        if (!vma.Readers.Contains(e.Thread))
        {
            return $"lock_vma_under_rcu returned {e.Vma} to {e.Thread} without its read lock held";
        }

        if (vma.Detached || vma.Freed)
        {
            return $"lock_vma_under_rcu returned {e.Vma} to {e.Thread} after {e.Vma} was detached";
        }

        return this.IsWriteMarked(e.Mm, e.Vma) ? $"lock_vma_under_rcu returned {e.Vma}, which is write-locked" : null;
    }

    private string? OnFaultCompleted(FaultCompleted e)
    {
        this.FaultsInProgress.Remove(e.Thread);
        var held = this.VmasReadLockedBy(e.Thread).ToList();
        if (held.Count > 0)
        {
            return $"the page fault of {e.Thread} returned still holding the read lock of {string.Join(", ", held)}";
        }

        var mm = this.Mm(e.Mm);
        return mm.Readers.Contains(e.Thread) || mm.Writer == e.Thread
            ? $"the page fault of {e.Thread} returned still holding {e.Mm}->mmap_lock"
            : null;
    }

    private string? OnFreed(VmaFreed e)
    {
        var vma = this.Vma(e.Vma);
        vma.Freed = true;
        if (vma.Readers.Count > 0)
        {
            return $"{e.Vma} freed while {string.Join(", ", vma.Readers)} held its read lock";
        }

        return vma.InTree ? $"{e.Vma} freed while still in the VMA tree" : null;
    }

    private string? OnGrabbed(MmGrabbed e)
    {
        this.grabs[(e.Thread, e.Mm)] = this.grabs.GetValueOrDefault((e.Thread, e.Mm)) + 1;
        return null;
    }

    private string? OnDropped(MmDropped e)
    {
        var held = this.grabs.GetValueOrDefault((e.Thread, e.Mm));
        if (held > 0)
        {
            this.grabs[(e.Thread, e.Mm)] = held - 1;
        }

        return null;
    }

    private string? OnReferenceDropping(VmaReferenceDropping e) =>
        e.VmaMm == e.OwnMm || this.HasGrabbed(e.Thread, e.VmaMm)
            ? null
            : $"{e.Thread} dropped its reference on {e.Vma} of {e.VmaMm} without holding {e.VmaMm} (the put may wake {e.VmaMm}'s writer after {e.VmaMm} is freed)";

    private static string Holders(MmState mm) =>
        mm.Writer?.Name ?? string.Join(", ", mm.Readers);
}
