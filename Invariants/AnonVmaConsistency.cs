using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// docs/protocol.md 8, B1 as fb49c455323f's message tells it: every VMA that maps an anonymous page is
/// linked to the page's anon_vma, so the reverse map finds every mapping. fork() copies the
/// parent's PTEs into a child VMA linked to the parent's anon_vmas as they were when
/// anon_vma_fork() ran; a fault that gives the parent VMA its first anon_vma in between (possible
/// only when neither fork nor lock_vma_under_rcu() keeps it out) leaves the child mapping a page
/// of an anon_vma it was never linked to.
/// </summary>
public sealed class AnonVmaConsistency : InvariantMonitor, IInvariant
{
    public static string Property => "A VMA that maps an anonymous page is linked to the page's anon_vma (the reverse map finds every mapping).";

    protected override string? Check(ProtocolEvent e) => e is AnonPageMapped m ? ProtocolSpec.AnonPageUnreachable(m) : null;
}
