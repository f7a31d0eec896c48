using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// docs/protocol.md 9.5 and B10: lock_vma_under_rcu() never hands a page fault a VMA that has been
/// detached (isolated from the tree by munmap or a merge).
/// </summary>
public sealed class NoReadLockOnDetachedVma : InvariantMonitor, IInvariant
{
    public static string Property => "A page fault never proceeds on a detached VMA.";

    protected override string? Check(ProtocolEvent e) => e switch
    {
        FaultLockedVma l when this.Spec.Vma(l.Vma).Detached || this.Spec.Vma(l.Vma).Freed =>
            $"lock_vma_under_rcu(0x{l.Address:x}) returned {l.Vma} to {l.Thread}, but {l.Vma} was detached",
        _ => null,
    };
}
