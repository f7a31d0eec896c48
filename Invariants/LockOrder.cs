using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// Lockdep's rule for the sleeping locks of the port (docs/protocol.md 7): lock classes are taken in
/// one global order. The graph of "class A was held while class B was taken" edges
/// (<see cref="LockClassOrder"/>) starts from the kernel's documented order, mmap_lock → vm_lock →
/// i_mmap_rwsem (which lockdep learns in the kernel from paths the port does not model, such as a
/// fault holding a VMA read lock entering reclaim, whose rmap walk takes i_mmap_rwsem), and grows
/// with every blocking acquisition of the whole exploration: the harness hands each iteration the
/// graph the earlier ones built (<see cref="LockOrderCarriedOver"/>). An acquisition whose edge
/// would close a cycle is reported, whether or not this schedule deadlocks, as lockdep reports
/// it: trylocks add no edges (they cannot wait), as in lockdep.
/// </summary>
public sealed class LockOrder : InvariantMonitor, IInvariant
{
    private readonly Dictionary<ThreadName, List<(string Lock, LockClass Class)>> held = [];
    private LockClassOrder order = new();

    public static string Property => "Sleeping locks are taken in one order of lock classes (mmap_lock, vm_lock, i_mmap_rwsem), kept across the exploration: no acquisition closes a cycle.";

    protected override string? Check(ProtocolEvent e)
    {
        switch (e)
        {
            case LockOrderCarriedOver carried:
                this.order = carried.Order;
                return null;

            case LockAcquiring a:
                var mine = this.Held(a.Thread);
                string? violation = null;
                if (!a.Trylock)
                {
                    foreach (var (heldLock, heldClass) in mine.Where(h => h.Class != a.Class))
                    {
                        if (this.order.PathExists(a.Class, heldClass) is { } reverse)
                        {
                            violation ??= $"{a.Thread} takes {a.Lock} ({a.Class}) while holding {heldLock} ({heldClass}): " +
                                $"{heldClass} -> {a.Class} inverts {reverse}";
                        }

                        this.order.Learn(heldClass, a.Class, $"{a.Thread} holding {heldLock} while taking {a.Lock}");
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

    private List<(string Lock, LockClass Class)> Held(ThreadName thread)
    {
        if (!this.held.TryGetValue(thread, out var list))
        {
            list = [];
            this.held[thread] = list;
        }

        return list;
    }
}
