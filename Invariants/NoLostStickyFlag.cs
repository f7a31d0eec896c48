using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// The contract of the first vm_flags bit a reader may set (VM_MAYBE_GUARD, v6.19): a guard
/// install sets it with set_bit() under the VMA's read lock, and every writer that reads it does
/// so under the VMA's write lock, which excludes that reader ("VMA merge - performed under
/// mmap/VMA write lock, therefore excluding racing writes", Lorenzo Stoakes, 2025-11-06). So the
/// flag is never lost: nothing clears it, and when a merge removes a VMA that has it, the VMA
/// that takes over the range gets it (VM_STICKY). A writer that reads a VMA's sticky flags before
/// write-locking that VMA can miss a guard install that lands in between, and the merged VMA
/// then covers guard markers its flags do not admit to (fork() copies page tables only for VMAs
/// that say they need it, so a child loses the guards of a file mapping).
/// </summary>
public sealed class NoLostStickyFlag : InvariantMonitor, IInvariant
{
    public static string Property =>
        "A sticky vm_flags bit (VM_MAYBE_GUARD) is never lost: no store to vm_flags clears it, when a write section takes a VMA that has it out of the tree the VMA that covers its range afterwards has it too, and after a write section every VMA that maps a page with guard markers has it.";

    protected override string? Check(ProtocolEvent e) => this.Spec.LostStickyFlag(e);
}
