using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// docs/protocol.md 9.8, liveness: every VMA read lock taken is released, and every page fault
/// completes (through the mmap_lock fallback if the VMA lock fails). Hot while a fault is in
/// progress or a read lock is held; a fault that returns still holding a read lock is reported at once.
/// </summary>
public sealed class ReadLocksReleased : InvariantMonitor, IInvariant
{
    public static string Property => "Every read lock taken is released and every page fault completes.";

    protected override bool Pending => this.Spec.AnyReaderActive;

    protected override string? Check(ProtocolEvent e)
    {
        if (e is not FaultCompleted c)
        {
            return null;
        }

        var held = this.Spec.VmasReadLockedBy(c.Thread).ToList();
        return held.Count == 0
            ? null
            : $"the page fault of {c.Thread} at 0x{c.Address:x} returned still holding the read lock of {string.Join(", ", held)}";
    }
}
