using CoyoteMonitor = Microsoft.Coyote.Specifications.Monitor;

namespace VmaLockVerify.Spec;

/// <summary>
/// The one Coyote monitor event: it carries a <see cref="ProtocolEvent"/>. Monitors handle this
/// type and pattern-match the payload, so a new kind of protocol event needs no new handler
/// declarations in existing monitors.
/// </summary>
public sealed class Observed(ProtocolEvent payload, Action? onViolation = null) : CoyoteMonitor.Event
{
    public ProtocolEvent Payload { get; } = payload;

    /// <summary>
    /// Called by a monitor just before it reports a violation of this event, so the kernel stops
    /// recording: Coyote ends the run there, and what the threads do while it is torn down did
    /// not happen in the kernel.
    /// </summary>
    public void ReportViolation() => onViolation?.Invoke();

    public override string ToString() => this.Payload.Describe();
}
