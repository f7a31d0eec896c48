using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// The bound on the lookups' retry loops: lock_vma_under_rcu() (v6.4 on) and lock_next_vma()
/// (v7.0) start over on -EAGAIN, with no limit, because each retry is paid for by a writer's
/// progress: the VMA they found was detached meanwhile, and a writer detaches each VMA once.
/// "Infinite loop should not happen because the vma we find will have to be constantly knocked
/// out from under us" (lock_next_vma()). A retry on a VMA that is still attached (a writer merely
/// holding it) is a loop that spins under RCU for as long as the writer keeps it, so under a fair
/// schedule it is bounded only by the writer: it is reported at the first such retry.
/// </summary>
public sealed class NoRetryWithoutProgress : InvariantMonitor, IInvariant
{
    public static string Property =>
        "A lookup under RCU (lock_vma_under_rcu(), lock_next_vma()) retries only when the VMA it found was detached meanwhile: every retry is paid for by a writer's progress, so the loop is bounded by the writers' detachments.";

    protected override string? Check(ProtocolEvent e) => e is VmaLookupRetried r ? this.Spec.RetryWithoutProgress(r) : null;
}
