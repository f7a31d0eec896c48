using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// The headline property (docs/protocol.md 9.1): vma_start_read() never succeeds on a VMA that is
/// write-locked in the current sequence of its mm.
/// </summary>
public sealed class NoReadOnWriteMarkedVma : InvariantMonitor, IInvariant
{
    public static string Property => "No read lock succeeds on a VMA write-marked in the current sequence.";

    protected override string? Check(ProtocolEvent e) => e switch
    {
        VmaStartReadReturned { Locked: true } r when this.Spec.IsWriteMarked(r.Mm, r.Vma) =>
            $"vma_start_read({r.Vma}) succeeded for {r.Thread} while {r.Vma} is write-locked in the current sequence of {r.Mm}",
        _ => null,
    };
}
