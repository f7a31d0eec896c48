using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// Every outcome the port reports is one the abstract protocol allows: the monitor's
/// <see cref="ProtocolSpec"/> judges each event as it applies it (see Spec/README.md for the rules).
/// </summary>
public sealed class SpecConformance : InvariantMonitor, IInvariant
{
    public static string Property => "Every operation's outcome is one the Spec allows.";

    protected override string? Observe(ProtocolEvent e) => this.Spec.Apply(e);
}
