namespace VmaLockVerify.Implementation.Memory.Lkmm;

/// <summary>Where a plain store (not an RMW) may land in a location's coherence order.</summary>
public enum LkmmWritePlacement
{
    /// <summary>At the end: coherence order is the order in which stores execute (Miri/tsan11).</summary>
    Append,

    /// <summary>
    /// In any gap above the writer's view that no RMW has claimed (PS's interval rule): a store may
    /// land before stores it has not seen. Needed for S and 2+2W.
    /// </summary>
    Insert,
}

/// <summary>Which machine runs: plain interleaving, or the LKMM view machine.</summary>
public enum LkmmMemoryKind
{
    /// <summary>Sequential consistency: every load reads the newest message, every store appends.</summary>
    SequentialConsistency,

    /// <summary>The promise-free view machine with the LKMM rules (docs/WEAK-MEMORY §3).</summary>
    Lkmm,
}

/// <summary>The knobs of <see cref="LkmmMachine"/>; the defaults are the model the README states.</summary>
public sealed record LkmmOptions
{
    /// <summary>
    /// Messages kept per location (the newest ones; older ones are dropped, as loom keeps 7 and Miri
    /// 128). A load chooses among at most this many messages, so it can return at most
    /// <c>HistoryBound - 1</c> stores older than the newest.
    /// </summary>
    public const int DefaultHistoryBound = 8;

    public LkmmMemoryKind Kind { get; init; } = LkmmMemoryKind.Lkmm;

    /// <summary>Default Insert: LKMM allows S and 2+2W, and Append cannot reach them.</summary>
    public LkmmWritePlacement Placement { get; init; } = LkmmWritePlacement.Insert;

    public int HistoryBound { get; init; } = DefaultHistoryBound;

    /// <summary>
    /// C11 release sequences: a relaxed store to x after a release store to x carries the release's
    /// view (PS's <c>rel[x]</c>). Off: linux-kernel.cat's <c>prop</c> has no coherence-internal
    /// step, so LKMM has no release sequences (litmus/MP+porelonce-poonce+poacquireonce.litmus).
    /// </summary>
    public bool ReleaseSequences { get; init; }

    /// <summary>
    /// An RMW's message also carries the view of the message it read (PS <c>releasedm</c>, the
    /// proposed <c>rmw-sequence</c> of LKMM). Off: not in the linux-kernel.cat this follows.
    /// </summary>
    public bool RmwSequences { get; init; }

    public static readonly LkmmOptions Default = new();

    public static readonly LkmmOptions SequentiallyConsistent = new() { Kind = LkmmMemoryKind.SequentialConsistency, Placement = LkmmWritePlacement.Append };
}
