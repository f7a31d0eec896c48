using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// LKMM's and KCSAN's data races (tools/memory-model/linux-kernel.cat "Plain accesses and data
/// races", Documentation/dev-tools/kcsan.rst): a plain C access to a location that another
/// thread accesses at the same time, at least one of the two a store, with neither happening
/// before the other, is a data race; marked accesses (READ_ONCE, WRITE_ONCE, atomics, acquire,
/// release) racing with each other are not. The LKMM memory model detects them from its own views
/// (LkmmRaceDetector, <c>explore --memory lkmm</c>); under sequential consistency nothing
/// reports one. v6.4's plain vma->vm_lock_seq (set in vma_start_write() under vm_lock, read
/// without it in vma_start_read()'s early check) is one: b1f02b95758d made both accesses
/// READ_ONCE/WRITE_ONCE in v6.5.
/// </summary>
public sealed class NoDataRace : InvariantMonitor, IInvariant
{
    public static string Property =>
        "No plain access races with a conflicting access of another thread that is not ordered with it by happens-before (checked under --memory lkmm only).";

    /// <summary>
    /// The message leaves the trace steps out (the replay's table shows them on the event's step),
    /// so a saved trace replays to the message it was found with.
    /// </summary>
    protected override string? Check(ProtocolEvent e) => e is DataRace race
        ? $"data race on {race.Access.Location}: {race.Access with { Step = null }} races with {race.Earlier with { Step = null }}, and neither happens before the other"
        : null;
}
