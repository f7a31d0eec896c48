using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// What the readers of an address space's layout promise user space since they stopped taking
/// mmap_lock (6.17: /proc/PID/maps and PROCMAP_QUERY under per-VMA locks): each VMA's range is
/// reported as the VMA had it at some instant, never vm_start of one moment with vm_end of
/// another, and one read of /proc/PID/maps moves forward, each line ending above the one before
/// (proc_get_vma() continues from the shown VMA's vm_end; lock_next_vma() must never hand back a
/// VMA behind that position, which a writer that shrank the VMA after the lookup could make it).
/// </summary>
public sealed class NoTornVmaRange : InvariantMonitor, IInvariant
{
    public static string Property =>
        "/proc/PID/maps and PROCMAP_QUERY report each VMA's range as the VMA had it at some instant (never torn), and the lines of one read of /proc/PID/maps move forward: each ends above the one before.";

    protected override string? Check(ProtocolEvent e) => e is VmaRangeReported r ? this.Spec.TornRange(r) ?? this.Spec.ReportWentBack(r) : null;
}
