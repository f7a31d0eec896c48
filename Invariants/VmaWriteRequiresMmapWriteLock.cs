using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// docs/protocol.md 9.3: vm_lock_seq changes (write-marking) and the mm_lock_seq bump happen only in
/// the thread that holds mmap_lock for write.
/// </summary>
public sealed class VmaWriteRequiresMmapWriteLock : InvariantMonitor, IInvariant
{
    public static string Property => "Write-marking a VMA and ending the write sequence happen only under mmap_lock held for write by the same thread.";

    protected override string? Check(ProtocolEvent e) => e switch
    {
        VmaWriteMarked m when this.Spec.Mm(m.Mm).Writer != m.Thread =>
            $"{m.Thread} set {m.Vma}->vm_lock_seq = {m.Sequence} {this.HeldBy(m.Mm, m.Thread)}",
        MmSequenceBumped b when this.Spec.Mm(b.Mm).Writer != b.Thread =>
            $"{b.Thread} bumped {b.Mm}->mm_lock_seq to {b.NewSequence} {this.HeldBy(b.Mm, b.Thread)}",
        _ => null,
    };

    private string HeldBy(MmName mm, ThreadName thread)
    {
        var state = this.Spec.Mm(mm);
        if (state.Writer is { } writer)
        {
            return $"while {writer} holds {mm}->mmap_lock for write";
        }

        return state.Readers.Contains(thread)
            ? $"holding {mm}->mmap_lock only for read"
            : $"without holding {mm}->mmap_lock";
    }
}
