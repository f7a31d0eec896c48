using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// docs/protocol.md 9.1: a writer never write-locks a VMA while another thread holds its read lock
/// (vma_start_write must wait for readers to drain before it marks the VMA or returns), and never
/// changes a field page faults read while another thread holds that VMA's read lock or holds
/// mmap_lock for read.
/// </summary>
public sealed class WriterExcludesReaders : InvariantMonitor, IInvariant
{
    public static string Property => "No writer write-locks a VMA, or changes a field page faults read, while another thread holds that VMA for read.";

    protected override string? Check(ProtocolEvent e)
    {
        if (e is VmaWriteMarked m)
        {
            var inside = this.OtherReaders(m.Vma, m.Thread);
            return inside.Count == 0
                ? null
                : $"{m.Thread} write-locked {m.Vma} (vm_lock_seq = {m.Sequence}) while {string.Join(", ", inside)} held its read lock";
        }

        if (e is VmaStartWriteReturned r)
        {
            var inside = this.OtherReaders(r.Vma, r.Thread);
            return inside.Count == 0
                ? null
                : $"vma_start_write({r.Vma}) returned to {r.Thread}{(r.WasAlreadyMarked ? " as already write-locked" : "")} while {string.Join(", ", inside)} held its read lock";
        }

        if (e is not VmaFieldWritten w)
        {
            return null;
        }

        var readers = this.Spec.Vma(w.Vma).Readers.Where(r => r != w.Thread).Select(r => r.Name)
            .Concat(this.Spec.Mm(w.Mm).Readers.Where(r => r != w.Thread).Select(r => $"{r} (mmap_lock)"))
            .ToList();
        return readers.Count == 0
            ? null
            : $"{w.Thread} changed {w.Vma}->{w.Field} to {w.Value} while {string.Join(", ", readers)} held {w.Vma} for read";
    }

    private List<ThreadName> OtherReaders(VmaName vma, ThreadName thread) => [.. this.Spec.Vma(vma).Readers.Where(r => r != thread)];
}
