using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// What b1f02b95758d ("mm: fix memory ordering for mm_lock_seq and vm_lock_seq", v6.5) restored:
/// vma_end_write_all() stores mm_lock_seq with smp_store_release() and vma_start_read()'s re-check
/// loads it with smp_load_acquire(), so a fault whose read lock succeeded after a write section
/// ended sees every VMA field that section stored. Without it (v6.4), the fault can see the
/// sequence ended and still read vm_flags from before the writer's change (the commit message's
/// userfaultfd_register example; mprotect here). Judged on the loads a weak memory model
/// (--memory lkmm) reports as having returned an older store: there are none under sc.
/// </summary>
public sealed class NoStaleVmaFieldUnderReadLock : InvariantMonitor, IInvariant
{
    public static string Property => "A fault holding a VMA's read lock never reads a field value that a write section which ended before its read lock succeeded had already overwritten.";

    protected override string? Check(ProtocolEvent e) => e is VmaFieldReadOlderStore load ? this.Spec.OverwrittenValueRead(load) : null;
}
