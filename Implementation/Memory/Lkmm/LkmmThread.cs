namespace VmaLockVerify.Implementation.Memory.Lkmm;

/// <summary>
/// One CPU's views (WEAK-MEMORY §3.1; PS2.0 <c>TView</c> with <c>cur</c> split into a load and a
/// store bound so that smp_rmb() can order loads only).
/// </summary>
public sealed class LkmmThread
{
    /// <summary>Lower bound of this CPU's loads (PS <c>cur</c>).</summary>
    public LkmmView CurR { get; set; } = new();

    /// <summary>Lower bound of this CPU's stores (PS <c>cur</c>).</summary>
    public LkmmView CurW { get; set; } = new();

    /// <summary>Everything this CPU's loads have heard of (PS <c>acq</c>).</summary>
    public LkmmView Acq { get; set; } = new();

    /// <summary>What a relaxed store to any location publishes (PS <c>rel</c>, the part common to every location).</summary>
    public LkmmView RelAll { get; set; } = new();

    /// <summary>Per-location additions to <see cref="RelAll"/>: only with <see cref="LkmmOptions.ReleaseSequences"/>.</summary>
    public Dictionary<int, LkmmView> Rel { get; } = [];

    /// <summary>The join of the views of this CPU's own stores (what smp_wmb() orders).</summary>
    public LkmmView OwnPub { get; set; } = new();

    /// <summary>The stores po-before this CPU's latest spin_unlock(), for the next spin_lock(); null before the first unlock.</summary>
    public LkmmView? LastUnlock { get; set; }

    /// <summary>rcu_read_lock() nesting.</summary>
    public int RcuDepth { get; set; }

    /// <summary>Between the two halves of synchronize_rcu().</summary>
    public bool InGracePeriod { get; set; }

    /// <summary>The view at the start of the grace period in progress.</summary>
    public LkmmView? GracePeriodStart { get; set; }

    /// <summary>bound(t,x) = max(curR[x], curW[x]).</summary>
    public long Bound(int location) => Math.Max(this.CurR[location], this.CurW[location]);

    /// <summary>The view a store to <paramref name="location"/> publishes without release semantics.</summary>
    public LkmmView RelaxedPublish(int location) =>
        this.Rel.TryGetValue(location, out var r) ? LkmmView.JoinOf(this.RelAll, r) : this.RelAll.Clone();
}
