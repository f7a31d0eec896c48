using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// Lockdep's rule for the sleeping locks of the port (PROTOCOL.md 7): lock classes are taken in
/// one global order. The graph of "class A was held while class B was taken" edges starts from
/// the kernel's documented order, mmap_lock → vm_lock → i_mmap_rwsem (which lockdep learns in the
/// kernel from paths the port does not model, such as a fault holding a VMA read lock entering
/// reclaim, whose rmap walk takes i_mmap_rwsem), and grows with every blocking acquisition of the
/// run. An acquisition whose edge would close a cycle is reported, whether or not this schedule
/// deadlocks, as lockdep reports it: trylocks add no edges (they cannot wait), as in lockdep.
/// </summary>
public sealed class LockOrder : InvariantMonitor, IInvariant
{
    /// <summary>The documented order: each class may be taken while holding the ones before it.</summary>
    public static readonly string[] DocumentedOrder = ["mmap_lock", "vm_lock", "i_mmap_rwsem"];

    private readonly Dictionary<string, List<(string Lock, string Class)>> held = [];
    private readonly Dictionary<(string From, string To), string> edges = [];

    public LockOrder()
    {
        for (var i = 0; i < DocumentedOrder.Length; i++)
        {
            for (var j = i + 1; j < DocumentedOrder.Length; j++)
            {
                this.edges[(DocumentedOrder[i], DocumentedOrder[j])] = "the kernel's documented lock order";
            }
        }
    }

    public static string Property => "Sleeping locks are taken in one order of lock classes (mmap_lock, vm_lock, i_mmap_rwsem): no acquisition closes a cycle.";

    protected override string? Check(ProtocolEvent e)
    {
        switch (e)
        {
            case LockAcquiring a:
                var mine = this.Held(a.Thread);
                string? violation = null;
                if (!a.Trylock)
                {
                    foreach (var (heldLock, heldClass) in mine.Where(h => h.Class != a.Class))
                    {
                        if (this.PathExists(a.Class, heldClass) is { } reverse)
                        {
                            violation ??= $"{a.Thread} takes {a.Lock} ({a.Class}) while holding {heldLock} ({heldClass}): " +
                                $"{heldClass} -> {a.Class} inverts {reverse}";
                        }

                        this.edges.TryAdd((heldClass, a.Class), $"{a.Thread} holding {heldLock} while taking {a.Lock}");
                    }
                }

                mine.Add((a.Lock, a.Class));
                return violation;
            case LockReleasing r:
                var list = this.Held(r.Thread);
                var index = list.FindLastIndex(h => h.Lock == r.Lock);
                if (index >= 0)
                {
                    list.RemoveAt(index);
                }

                return null;
            default:
                return null;
        }
    }

    private List<(string Lock, string Class)> Held(string thread)
    {
        if (!this.held.TryGetValue(thread, out var list))
        {
            list = [];
            this.held[thread] = list;
        }

        return list;
    }

    /// <summary>A path <paramref name="from"/> →* <paramref name="to"/> in the order graph, described, or null.</summary>
    private string? PathExists(string from, string to)
    {
        var queue = new Queue<(string Class, string Path)>([(from, from)]);
        var seen = new HashSet<string> { from };
        while (queue.Count > 0)
        {
            var (current, path) = queue.Dequeue();
            foreach (var ((a, b), why) in this.edges.Where(edge => edge.Key.From == current).OrderBy(edge => edge.Key.To, StringComparer.Ordinal))
            {
                var next = $"{path} -> {b}";
                if (b == to)
                {
                    return $"{next} ({why})";
                }

                if (seen.Add(b))
                {
                    queue.Enqueue((b, next));
                }
            }
        }

        return null;
    }
}
