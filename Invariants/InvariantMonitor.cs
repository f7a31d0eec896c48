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
/// The base of every invariant: a Coyote specification monitor that follows the protocol events
/// with its own <see cref="ProtocolSpec"/> (the abstract state before each event) and asks the
/// subclass whether the event breaks its property. A subclass writes one method,
/// <see cref="Check"/>; a liveness property also overrides <see cref="Pending"/>.
///
/// The monitor is cold while nothing is pending and hot while something is (Coyote reports a
/// monitor still hot at the end of an iteration, or hot for too long in a fair schedule, as a
/// liveness bug).
/// </summary>
public abstract class InvariantMonitor : CoyoteMonitor
{
    /// <summary>The abstract protocol state, as it was before the event being checked.</summary>
    protected ProtocolSpec Spec { get; } = new();

    /// <summary>
    /// Judges one event against <see cref="Spec"/>'s state before it. Returns null when the
    /// property holds, else what broke it (kernel terms, one sentence). This is the method an
    /// invariant writes.
    /// </summary>
    protected virtual string? Check(ProtocolEvent e) => null;

    /// <summary>Checks the event, then moves <see cref="Spec"/> past it. Returns the violation, if any.</summary>
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
    /// Judges one event outside Coyote's runtime (stress mode on real threads): the same check
    /// and the same Spec as under Coyote, without the monitor machinery.
    /// </summary>
    public string? Judge(ProtocolEvent e) => this.Observe(e);

    private void OnObserved(Event e)
    {
        var observed = (Observed)e;
        var violation = this.Observe(observed.Payload);
        if (violation is not null)
        {
            observed.ReportViolation();
            this.Assert(false, "{0}", $"[{this.GetType().Name}] {violation}");
        }

        if (this.Pending && this.CurrentState == typeof(Satisfied))
        {
            this.RaiseGotoStateEvent<Obliged>();
        }
        else if (!this.Pending && this.CurrentState == typeof(Obliged))
        {
            this.RaiseGotoStateEvent<Satisfied>();
        }
    }

    [Start]
    [Cold]
    [OnEventDoAction(typeof(Observed), nameof(OnObserved))]
    private sealed class Satisfied : State
    {
    }

    [Hot]
    [OnEventDoAction(typeof(Observed), nameof(OnObserved))]
    private sealed class Obliged : State
    {
    }
}
