using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// A read-side critical section of RCU may not sleep: the kernel's might_sleep() check
/// (CONFIG_DEBUG_ATOMIC_SLEEP, "sleeping function called from invalid context") at every call
/// that may block. lock_vma_under_rcu() runs its lookup and vma_start_read() under
/// rcu_read_lock(), which is why vma_start_read() only ever tries the lock; syzbot reported this
/// class of bug when /proc/PID/maps moved to per-VMA locks (a GFP_KERNEL allocation under RCU).
/// </summary>
public sealed class NoSleepUnderRcu : InvariantMonitor, IInvariant
{
    public static string Property =>
        "No thread calls a function that may sleep (down_read(), down_write(), schedule(), a GFP_KERNEL allocation) inside an RCU read-side critical section: the kernel's might_sleep() check.";

    protected override string? Check(ProtocolEvent e) => e switch
    {
        MightSleepUnderRcu s => $"BUG: sleeping function called from invalid context: {s.Thread} calls {s.Call} in {s.Function} inside an RCU read-side critical section (rcu_read_lock() held)",
        _ => null,
    };
}
