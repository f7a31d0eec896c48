using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// docs/protocol.md 9.6 for the reference count (B11, 9bbffee67ffd): vma_refcount_put() may wake the
/// writer of the VMA's mm after the decrement, so the thread must hold that mm: be one of its
/// users (its own process's mm) or have pinned it with mmgrab(). A recycled VMA may belong to
/// another process by the time a reader drops its reference.
/// </summary>
public sealed class VmaPutHoldsMm : InvariantMonitor, IInvariant
{
    public static string Property => "A VMA reference is dropped only by a thread holding the VMA's mm (its own, or pinned with mmgrab).";

    protected override string? Check(ProtocolEvent e) => e switch
    {
        VmaReferenceDropping p when p.VmaMm != p.OwnMm && !this.Spec.HasGrabbed(p.Thread, p.VmaMm) =>
            $"{p.Thread} (of {p.OwnMm?.Name ?? "no mm"}) dropped its reference on {p.Vma} of {p.VmaMm} without mmgrab({p.VmaMm}): the put may wake {p.VmaMm}'s writer after {p.VmaMm} is freed",
        _ => null,
    };
}
