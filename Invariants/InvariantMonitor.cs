using VmaLockVerify.Spec;
using CoyoteMonitor = Microsoft.Coyote.Specifications.Monitor;

namespace VmaLockVerify.Invariants;

/// <summary>An invariant states its property in one sentence.</summary>
public interface IInvariant
{
    /// <summary>The property, in one sentence, in kernel terms.</summary>
    static abstract string Property { get; }
}

/// <summary>
/// The base of every invariant: it follows the protocol events with a <see cref="ProtocolSpec"/>
/// (the abstract state before each event) and asks the subclass whether the event breaks its
/// property. A subclass writes one method, <see cref="Check"/>; a liveness property also
/// overrides <see cref="Pending"/>.
/// <para>
/// Under Coyote the selected invariants are judged together by one specification monitor,
/// <see cref="AllInvariants"/>, on one shared <see cref="ProtocolSpec"/> (see
/// <see cref="InvariantSet"/>). A liveness invariant is also a Coyote monitor of its own: cold
/// while nothing is pending and hot while something is (Coyote reports a monitor still hot at the
/// end of an iteration, or hot for too long in a fair schedule, as a liveness bug).
/// </para>
/// </summary>
public abstract class InvariantMonitor : CoyoteMonitor
{
    private ProtocolSpec? spec;

    /// <summary>The abstract protocol state, as it was before the event being checked (made on first use unless shared).</summary>
    protected ProtocolSpec Spec => this.spec ??= new();

    /// <summary>
    /// Judges one event against <see cref="Spec"/>'s state before it. Returns null when the
    /// property holds, else what broke it (kernel terms, one sentence). This is the method an
    /// invariant writes.
    /// </summary>
    protected virtual string? Check(ProtocolEvent e) => null;

    /// <summary>
    /// Checks the event, then moves <see cref="Spec"/> past it. Returns the violation, if any. An
    /// invariant that overrides it judges by moving the Spec itself (SpecConformance), and is
    /// judged last when it shares the Spec (<see cref="InvariantSet"/>).
    /// </summary>
    protected virtual string? Observe(ProtocolEvent e)
    {
        var violation = this.Check(e);
        this.Spec.Apply(e);
        return violation;
    }

    /// <summary>For liveness: whether an obligation is open (the monitor is hot until it closes).</summary>
    protected virtual bool Pending => false;

    /// <summary>Whether an obligation is still open: for judging outside Coyote, at the end of a run.</summary>
    public bool IsPending => this.Pending;

    /// <summary>
    /// Judges one event with this invariant's own Spec (stress mode on real threads, and tests):
    /// the same check and the same Spec as under Coyote, without the monitor machinery.
    /// </summary>
    public string? Judge(ProtocolEvent e) => this.Observe(e);

    /// <summary>Makes this invariant follow <paramref name="shared"/> instead of a Spec of its own.</summary>
    internal void Share(ProtocolSpec shared) => this.spec = shared;

    /// <summary>Judges one event against the shared Spec without moving it (the <see cref="InvariantSet"/> moves it once).</summary>
    internal string? CheckShared(ProtocolEvent e) => this.Check(e);

    /// <summary>
    /// Judges one event the way this invariant observes it: with a Spec that only it moves (its
    /// own), or, for an invariant that judges by moving the Spec, the shared one it moves last.
    /// </summary>
    internal string? ObserveShared(ProtocolEvent e) => this.Observe(e);

    private void OnObligationChanged(Event e)
    {
        var open = ((ObligationChanged)e).Open;
        if (open && this.CurrentState == typeof(Satisfied))
        {
            this.RaiseGotoStateEvent<Obliged>();
        }
        else if (!open && this.CurrentState == typeof(Obliged))
        {
            this.RaiseGotoStateEvent<Satisfied>();
        }
    }

    [Start]
    [Cold]
    [OnEventDoAction(typeof(ObligationChanged), nameof(OnObligationChanged))]
    private sealed class Satisfied : State
    {
    }

    [Hot]
    [OnEventDoAction(typeof(ObligationChanged), nameof(OnObligationChanged))]
    private sealed class Obliged : State
    {
    }
}

/// <summary>A liveness invariant's obligation opened or closed (sent to its Coyote monitor only when it changes).</summary>
public sealed class ObligationChanged(bool open) : CoyoteMonitor.Event
{
    public bool Open { get; } = open;
}
