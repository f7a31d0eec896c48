namespace VmaLockVerify.Spec;

/// <summary>
/// One learnt edge of the lock-class order: class <paramref name="To"/> was taken while
/// <paramref name="From"/> was held, <paramref name="Why"/> says by whom, in exploration
/// iteration <paramref name="Iteration"/>.
/// </summary>
public sealed record LockOrderEdge(string From, string To, string Why, long Iteration)
{
    public override string ToString() => $"{this.Why}, iteration {this.Iteration}";
}

/// <summary>
/// The lock-class graph as an iteration found it: the iteration's number and the edges learnt
/// before it. A LockOrder trace records it, and its replay starts from it.
/// </summary>
public sealed record LockOrderSnapshot(long Iteration, IReadOnlyList<LockOrderEdge> Learnt);

/// <summary>
/// Lockdep's graph of lock classes (docs/protocol.md 7, 9.7): "class B was taken while class A was
/// held" edges, starting from the kernel's documented order and growing with every blocking
/// acquisition. One graph lives through a whole exploration, as lockdep's lives through a boot:
/// an order seen in one iteration constrains every later one.
/// </summary>
public sealed class LockClassOrder
{
    /// <summary>The documented order: each class may be taken while holding the ones before it.</summary>
    public static readonly IReadOnlyList<LockClass> DocumentedOrder = [LockClass.MmapLock, LockClass.VmLock, LockClass.IMmapRwsem];

    private readonly Dictionary<(string From, string To), string> edges = [];
    private readonly List<LockOrderEdge> learned = [];
    private long nextIteration;

    /// <summary>
    /// The documented order, plus <paramref name="start"/>: the graph a saved trace's iteration
    /// started from, its iterations numbered as they were.
    /// </summary>
    public LockClassOrder(LockOrderSnapshot? start = null)
    {
        this.nextIteration = start?.Iteration ?? 1;
        for (var i = 0; i < DocumentedOrder.Count; i++)
        {
            for (var j = i + 1; j < DocumentedOrder.Count; j++)
            {
                this.edges[(DocumentedOrder[i].Name, DocumentedOrder[j].Name)] = "the kernel's documented lock order";
            }
        }

        foreach (var edge in start?.Learnt ?? [])
        {
            this.Add(edge);
        }

        this.Start = new LockOrderSnapshot(0, [.. this.learned]);
    }

    /// <summary>The iteration under way, from 1 (0 before the first).</summary>
    public long Iteration { get; private set; }

    /// <summary>The current iteration and the edges learnt before it began: what a trace of it must start from to replay.</summary>
    public LockOrderSnapshot Start { get; private set; }

    /// <summary>A new iteration begins: what was learnt so far is what it starts from.</summary>
    public void BeginIteration()
    {
        this.Iteration = this.nextIteration++;
        this.Start = new LockOrderSnapshot(this.Iteration, [.. this.learned]);
    }

    /// <summary>Records that <paramref name="to"/> was taken while <paramref name="from"/> was held, unless already known.</summary>
    public void Learn(LockClass from, LockClass to, string why) => this.Add(new LockOrderEdge(from.Name, to.Name, why, this.Iteration));

    private void Add(LockOrderEdge edge)
    {
        if (this.edges.TryAdd((edge.From, edge.To), edge.Iteration > 0 ? edge.ToString() : edge.Why))
        {
            this.learned.Add(edge);
        }
    }

    /// <summary>A path <paramref name="fromClass"/> →* <paramref name="toClass"/> in the graph, described, or null.</summary>
    public string? PathExists(LockClass fromClass, LockClass toClass)
    {
        var (from, to) = (fromClass.Name, toClass.Name);
        var queue = new Queue<(string Class, string Path)>([(from, from)]);
        var seen = new HashSet<string> { from };
        while (queue.Count > 0)
        {
            var (current, path) = queue.Dequeue();
            foreach (var ((_, b), why) in this.edges.Where(edge => edge.Key.From == current).OrderBy(edge => edge.Key.To, StringComparer.Ordinal))
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
