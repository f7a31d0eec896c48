using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// 49b0638502da ("mm: enable page walking API to lock vmas during the walk", v6.5, for 6.4
/// stable): mbind(MPOL_MF_MOVE) scans the range's page tables under mmap_lock held for write
/// (queue_pages_range()) and migrates what it queued after the section, so no page may be mapped
/// into a scanned range until the section ends. mmap_lock held for write no longer keeps page
/// faults out once they run under a VMA read lock: the walk must write-lock every VMA it scans
/// (PGWALK_WRLOCK), or a fault maps a page the migration never sees, as the fix's message says of
/// do_mbind().
/// </summary>
public sealed class NoPageMissedByMigration : InvariantMonitor, IInvariant
{
    public static string Property => "No page is mapped into a range mbind()'s page walk has scanned for migration until its mmap_lock write section ends (the walk's VMA write locks keep page faults out).";

    protected override string? Check(ProtocolEvent e) => e is AnonPageMapped m ? this.Spec.PageMissedByMigration(m) : null;
}
