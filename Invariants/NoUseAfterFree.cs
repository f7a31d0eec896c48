using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// docs/protocol.md 9 (memory safety; B3, B9, B11): no thread reads, writes or frees a VMA, its
/// vma_lock, an anon_vma or an mm_struct after it was freed. The port poisons freed objects the
/// way KASAN does; every access through the memory layer checks the poison, and this invariant
/// names the access, the object and who freed it.
/// </summary>
public sealed class NoUseAfterFree : InvariantMonitor, IInvariant
{
    public static string Property => "No kernel object is read, written or freed again after it was freed.";

    protected override string? Check(ProtocolEvent e) => e is FreedObjectAccessed a
        ? $"use-after-free: {a.Thread} {a.Access}s {a.Object}->{a.Field} ({a.Op}) in {a.Function}; {a.Object} was freed by {a.FreedBy}"
        : null;
}
