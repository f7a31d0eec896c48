using VmaLockVerify.Spec;
using CoyoteMonitor = Microsoft.Coyote.Specifications.Monitor;

namespace VmaLockVerify.Invariants;

/// <summary>
/// The selected invariants of one iteration, judged together, in their order (the first that
/// fails names the bug). They follow one shared <see cref="ProtocolSpec"/>, moved once per event
/// after all of them have checked it, instead of a copy each that every event moves; an
/// invariant that judges by moving the Spec (<see cref="InvariantInfo.MovesSpec"/>) is then the
/// last to see the event. When such an invariant is not last (an --invariant order that puts it
/// first), every invariant keeps a Spec of its own, as each judged alone.
/// </summary>
public sealed class InvariantSet
{
    private readonly (InvariantInfo Info, InvariantMonitor Monitor)[] invariants;
    private readonly ProtocolSpec? shared;
    private readonly bool[] open;
    private readonly int[] liveness;

    /// <summary>The Spec the invariants share, past every event judged; null when two of them move their own.</summary>
    public ProtocolSpec? Spec => this.shared;

    public InvariantSet(IReadOnlyList<InvariantInfo> selected)
    {
        this.invariants = [.. selected.Select(i => (i, i.Create()))];
        this.open = new bool[this.invariants.Length];
        this.liveness = [.. Enumerable.Range(0, selected.Count).Where(i => selected[i].Liveness)];
        var movers = selected.Count(i => i.MovesSpec);
        if (movers == 0 || (movers == 1 && selected[^1].MovesSpec))
        {
            this.shared = new ProtocolSpec();
            foreach (var (_, monitor) in this.invariants)
            {
                monitor.Share(this.shared);
            }
        }
    }

    /// <summary>
    /// Judges one event: the first invariant it breaks and why, or null; the Spec is then past
    /// the event. (After a violation the run ends, so nothing is judged later.)
    /// </summary>
    public (string Invariant, string Message)? Judge(ProtocolEvent e)
    {
        var moved = false;
        foreach (var (info, monitor) in this.invariants)
        {
            var violation = this.shared is null ? monitor.Judge(e)
                : info.MovesSpec ? monitor.ObserveShared(e)
                : monitor.CheckShared(e);
            moved |= info.MovesSpec;
            if (violation is not null)
            {
                return (info.Name, violation);
            }
        }

        if (this.shared is not null && !moved)
        {
            this.shared.Apply(e);
        }

        return null;
    }

    /// <summary>The liveness invariants whose obligation opened or closed with the last event judged (usually none).</summary>
    public IReadOnlyList<(InvariantInfo Invariant, bool Open)> ObligationsChanged()
    {
        List<(InvariantInfo, bool)>? changed = null;
        foreach (var i in this.liveness)
        {
            if (this.invariants[i].Monitor.IsPending != this.open[i])
            {
                this.open[i] = !this.open[i];
                (changed ??= []).Add((this.invariants[i].Info, this.open[i]));
            }
        }

        return changed ?? (IReadOnlyList<(InvariantInfo, bool)>)[];
    }

    /// <summary>The first invariant with an obligation still open, if any (judging outside Coyote, at the end of a run).</summary>
    public string? FirstPending() => this.invariants.FirstOrDefault(i => i.Monitor.IsPending).Info?.Name;
}

/// <summary>
/// The one Coyote specification monitor of the safety properties: it judges each protocol event
/// with the iteration's <see cref="InvariantSet"/> and reports the first violation as
/// "[Invariant] message". Running inside a monitor keeps the judgement atomic: Coyote refuses a
/// scheduling point there. One monitor instead of one per invariant: Coyote's per-monitor work
/// on every event (finding the monitor, suppressing scheduling, two log lines formatted into the
/// iteration's in-memory log) is done once.
/// </summary>
public sealed class AllInvariants : CoyoteMonitor
{
    private void OnJudged(Event e)
    {
        var judged = (Judged)e;
        if (judged.Set.Judge(judged.Payload) is { } violation)
        {
            judged.ReportViolation(violation.Invariant, violation.Message);
            this.Assert(false, "{0}", $"[{violation.Invariant}] {violation.Message}");
        }
    }

    [Start]
    [OnEventDoAction(typeof(Judged), nameof(OnJudged))]
    private sealed class Judging : State
    {
    }
}

/// <summary>
/// The event <see cref="AllInvariants"/> handles: a <see cref="ProtocolEvent"/> for the
/// iteration's invariants. <paramref name="onViolation"/> runs just before a violation is
/// reported, with the invariant that raised it and its message: the run learns the bug's kind from
/// what raised it, and the kernel stops recording (Coyote ends the run there, and what the threads
/// do while it is torn down did not happen in the kernel).
/// </summary>
public sealed class Judged(InvariantSet set, ProtocolEvent payload, Action<string, string>? onViolation) : CoyoteMonitor.Event
{
    public InvariantSet Set { get; } = set;

    public ProtocolEvent Payload { get; } = payload;

    public void ReportViolation(string invariant, string message) => onViolation?.Invoke(invariant, message);

    public override string ToString() => this.Payload.Describe();
}
