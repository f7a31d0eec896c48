using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Kernel;

/// <summary>A cached translation: the page a user address maps to, whether it allows writes, and the mm's TLB generation it was filled at.</summary>
public sealed record TlbEntry(KernelObject Page, bool Writable, long Generation);

/// <summary>
/// The user-address translations cached by the CPU a task runs on (its TLB), per mm and page.
/// Entries go stale when their mm's TLB generation moves on (a flush); the CPU keeps using a
/// valid one without looking at the page table, which is why a page table change that takes
/// rights away must be followed by a flush. Only the owning task touches its TLB.
/// </summary>
public sealed class Tlb
{
    private readonly Dictionary<(MmName Mm, ulong Page), TlbEntry> entries = [];

    /// <summary>The cached translation of the page, if any (valid or stale).</summary>
    public TlbEntry? Lookup(MmName mm, ulong page) => this.entries.GetValueOrDefault((mm, page));

    /// <summary>Caches a translation found by a page walk.</summary>
    public void Fill(MmName mm, ulong page, TlbEntry entry) => this.entries[(mm, page)] = entry;

    /// <summary>Forgets a translation found stale.</summary>
    public void Drop(MmName mm, ulong page) => this.entries.Remove((mm, page));
}
