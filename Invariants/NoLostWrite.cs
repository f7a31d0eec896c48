using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// docs/protocol.md 8, B1 (fb49c455323f): a process's memory keeps every completed store. fork()
/// write-protects the parent's pages for copy-on-write and flushes the parent's TLB only at the
/// end of dup_mmap(); a parent thread that copies a page on a write fault in between (possible
/// only if the fault did not wait for fork) installs a copy that misses what another thread
/// still stores through its stale writable translation. That store lands in the page the child
/// keeps: the parent has lost it. Stores here only set bits, so a load must see every bit any
/// thread of the process stored at that word before it.
/// </summary>
public sealed class NoLostWrite : InvariantMonitor, IInvariant
{
    public static string Property => "A load from a process's memory sees every store its threads completed there before it (copy-on-write loses no store).";

    protected override string? Check(ProtocolEvent e) => e is UserLoaded load ? this.Spec.LostStore(load) : null;
}
