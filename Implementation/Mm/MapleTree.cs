using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>One range of a maple tree node and the VMA stored over it (a pivot and its slot).</summary>
public sealed record MapleEntry(ulong Start, ulong End, VmAreaStruct Vma)
{
    /// <summary>Whether the range holds <paramref name="index"/>.</summary>
    public bool Holds(ulong index) => this.Start <= index && index < this.End;
}

/// <summary>
/// A maple tree node (struct maple_node, a leaf): the ranges it holds, each with its own copy of
/// the range, as pivots are. Never changed once published: a modification publishes a new node in
/// its place, and where the tree frees replaced nodes (<see cref="MapleTree.FreesReplacedNodes"/>)
/// the old one is freed after a grace period (ma_free_rcu()), so a reader may use it only inside
/// the RCU read-side section in which it found it.
/// </summary>
public sealed class MapleNode(KernelWorld world, string name, IReadOnlyList<MapleEntry> entries) : KernelObject(world, name)
{
    public IReadOnlyList<MapleEntry> Entries { get; } = entries;

    /// <summary>The entry whose range holds <paramref name="index"/>, if any.</summary>
    public MapleEntry? Holding(ulong index) => this.Entries.FirstOrDefault(e => e.Holds(index));

    /// <summary>The entry of the lowest range that ends above <paramref name="index"/>, if any.</summary>
    public MapleEntry? FirstEndingAbove(ulong index) => this.Entries.Where(e => e.End > index).MinBy(e => e.Start);
}

/// <summary>
/// struct ma_state (MA_STATE()), lib/maple_tree.c reduced to a cursor: the index it looks up and
/// the node its last walk stopped at. A walk from MAS_START reads the tree; a walk of an active
/// state starts from its cached node, which is only safe in the RCU read-side section that found
/// it: once that section ends, a grace period may free the node. mas_set() sends it back to
/// MAS_START.
/// </summary>
public sealed class MaState(MapleTree tree, ulong index)
{
    public MapleTree Tree { get; } = tree;

    /// <summary>mas->index (= mas->last: a one-address state).</summary>
    public ulong Index { get; private set; } = index;

    /// <summary>mas->node: the node the last walk found, or null for MAS_START.</summary>
    public MapleNode? Node { get; set; }

    /// <summary>mas_set(): a new index, and the state back to MAS_START.</summary>
    public void Set(ulong index)
    {
        using var fn = this.Tree.World.Enter("mas_set", $"&mas, {VmAreaStruct.Hex(index)}");
        this.Reset(index);
    }

    /// <summary>The state back to MAS_START at <paramref name="index"/>, for the callers that name it otherwise (vma_iter_set()).</summary>
    public void Reset(ulong index)
    {
        this.Index = index;
        this.Node = null;
    }

    /// <summary>mas_find()'s step past the entry it returned: the state caches its node, and the next find starts at its end.</summary>
    internal void Found(MapleNode node, MapleEntry entry)
    {
        this.Node = node;
        this.Index = entry.End;
    }
}

/// <summary>
/// struct vma_iterator, include/linux/mm_types.h: an ma_state over an mm's tree. Kept across calls
/// by the /proc/PID/maps readers (proc_maps_private->iter), it is only valid while the RCU
/// read-side section (or the mmap_lock) in which its node was found lasts; vma_iter_set() sends it
/// back to MAS_START.
/// </summary>
public sealed class VmaIterator(MmStruct mm, ulong address)
{
    public MaState Mas { get; } = new(mm.MmMt, address);
}

/// <summary>
/// mm->mm_mt reduced to what the per-VMA lock depends on (lib/maple_tree.c). Readers walk it under
/// rcu_read_lock with rcu_dereference; writers (holding mmap_lock for write) publish new nodes with
/// rcu_assign_pointer, so a reader sees either the old or the new range, never a torn one. Two
/// shapes:
/// <list type="bullet">
/// <item>up to 6.15, a few slots, each an RCU-published pointer to a node of one range, replaced
/// one at a time (old nodes stay valid: those generations' readers keep no node across RCU
/// sections);</item>
/// <item>from v7.0 (<see cref="FreesReplacedNodes"/>), what the kernel's tree of a few VMAs is: one
/// leaf node at the root (a maple_leaf_64 holds 16 ranges) that every modification copies,
/// changes and publishes whole, freeing the old node after a grace period. A store that covers
/// several ranges (vma_iter_store_overwrite()) is one publish, and a cursor that cached the root
/// before any modification holds a node that a grace period may free.</item>
/// </list>
/// </summary>
public sealed class MapleTree : KernelObject
{
    private const int Slots = 4;
    private readonly MmStruct mm;
    private readonly SharedVar<MapleNode?>[] slots;
    private SharedVar<MapleNode?>? root;
    private int nodes;

    public MapleTree(KernelWorld world, MmStruct mm)
        : base(world, $"{mm.Name}->mm_mt")
    {
        this.mm = mm;
        this.slots = new SharedVar<MapleNode?>[Slots];
        for (var i = 0; i < Slots; i++)
        {
            this.slots[i] = new SharedVar<MapleNode?>(world, this, $"slot[{i}]", null, DescribeSlot);
        }
    }

    /// <summary>mas_walk(): the VMA whose range contains <paramref name="address"/>, under RCU.</summary>
    public VmAreaStruct? MasWalk(ulong address)
    {
        using var fn = this.World.Enter("mas_walk", VmAreaStruct.Hex(address));
        return fn.Returns(this.Walk(address)?.Entry.Vma);
    }

    /// <summary>
    /// Whether the tree is v7.0's: one root node, copied and published whole by each modification,
    /// the replaced node freed after a grace period (ma_free_rcu()), which is what the kernel does
    /// in every generation. The generations whose readers keep an ma_state across RCU sections
    /// (v7.0's lock_vma_under_rcu(), the /proc/PID/maps iterator) turn it on before the tree has
    /// entries; the others keep the tree of slots whose old entries simply stay valid (and their
    /// schedules, traces and memory-model histories unchanged).
    /// </summary>
    public bool FreesReplacedNodes
    {
        get => this.root is not null;
        set
        {
            if (value && this.root is null)
            {
                if (this.slots.Any(s => s.Peek() is not null))
                {
                    throw new InvalidOperationException($"{this.Name} already has entries in slots");
                }

                this.root = new SharedVar<MapleNode?>(this.World, this, "ma_root", this.NewNode([]), DescribeNode);
            }
        }
    }

    /// <summary>
    /// mas_walk(&amp;mas) under RCU: from MAS_START, the VMA whose range contains mas->index, caching
    /// the node it is in; from an active state, the entry of the cached node, read without going
    /// back to the tree (a use-after-free if that node has been freed since).
    /// </summary>
    public VmAreaStruct? MasWalk(MaState mas)
    {
        using var fn = this.World.Enter("mas_walk", $"&mas, {VmAreaStruct.Hex(mas.Index)}{(mas.Node is null ? "" : $", active at {mas.Node.Name}")}");
        if (mas.Node is { } cached)
        {
            cached.CheckAlive(AccessKind.Load, "mas_walk", "slot");
            return fn.Returns(cached.Holding(mas.Index)?.Vma);
        }

        if (this.Walk(mas.Index) is not { } found)
        {
            return fn.Returns<VmAreaStruct?>(null);
        }

        mas.Node = found.Node;
        return fn.Returns(found.Entry.Vma);
    }

    /// <summary>The entry whose range holds <paramref name="index"/>, and its node, reading the tree from its root (or its slots in turn, no further than the one that holds it).</summary>
    private (MapleNode Node, MapleEntry Entry)? Walk(ulong index)
    {
        foreach (var found in this.Read())
        {
            if (found.Entry.Holds(index))
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>
    /// mas_find(&amp;mas, ULONG_MAX) (lib/maple_tree.c), as vma_next() calls it: the first VMA ending
    /// above mas->index, from MAS_START by walking the tree; from an active state by going on from
    /// the node the state caches (a use-after-free if a grace period has freed that node since).
    /// In the tree of slots a node holds one range, so going on means walking the tree again.
    /// </summary>
    public VmAreaStruct? MasFind(MaState mas)
    {
        using var fn = this.World.Enter("mas_find", $"&mas, {VmAreaStruct.Hex(mas.Index)}{(mas.Node is null ? "" : $", active at {mas.Node.Name}")}");
        mas.Node?.CheckAlive(AccessKind.Load, "mas_find", "slot");
        var found = mas.Node is { } cached && this.FreesReplacedNodes
            ? cached.FirstEndingAbove(mas.Index) is { } next ? (cached, next) : default((MapleNode Node, MapleEntry Entry)?)
            : this.FirstEndingAbove(mas.Index);
        if (found is not { } at)
        {
            return fn.Returns<VmAreaStruct?>(null);
        }

        mas.Found(at.Node, at.Entry);
        return fn.Returns(at.Entry.Vma);
    }

    /// <summary>find_vma(): the first VMA ending above <paramref name="address"/> (caller holds mmap_lock).</summary>
    public VmAreaStruct? FindVma(ulong address)
    {
        using var fn = this.World.Enter("find_vma", VmAreaStruct.Hex(address));
        return fn.Returns(this.FirstEndingAbove(address)?.Entry.Vma);
    }

    /// <summary>The entry of the lowest range that ends above <paramref name="address"/>, and its node, each node read with rcu_dereference().</summary>
    private (MapleNode Node, MapleEntry Entry)? FirstEndingAbove(ulong address)
    {
        (MapleNode Node, MapleEntry Entry)? best = null;
        foreach (var (node, entry) in this.Read())
        {
            if (entry.End > address && (best is null || entry.Start < best.Value.Entry.Start))
            {
                best = (node, entry);
            }
        }

        return best;
    }

    /// <summary>vma_prev() / mas_prev(): the VMA below <paramref name="vma"/>, the highest one ending at or before its start.</summary>
    public VmAreaStruct? VmaPrev(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("mas_prev", vma.Name);
        return fn.Returns(this.LastEndingAtOrBelow(vma.VmStart.ReadOnce())?.Vma);
    }

    /// <summary>vma_prev() from a gap at <paramref name="address"/> (caller holds mmap_lock): the highest VMA ending at or below it.</summary>
    public VmAreaStruct? VmaPrev(ulong address)
    {
        using var fn = this.World.Enter("vma_prev", VmAreaStruct.Hex(address));
        return fn.Returns(this.LastEndingAtOrBelow(address)?.Vma);
    }

    /// <summary>The entry of the highest range that ends at or below <paramref name="address"/>, each node read with rcu_dereference().</summary>
    private MapleEntry? LastEndingAtOrBelow(ulong address)
    {
        MapleEntry? best = null;
        foreach (var (_, entry) in this.Read())
        {
            if (entry.End <= address && (best is null || entry.End > best.End))
            {
                best = entry;
            }
        }

        return best;
    }

    /// <summary>
    /// The entries a reader finds, with their nodes: the root's, read once with rcu_dereference(),
    /// or each slot's, read with rcu_dereference() as the walk reaches it (a walk that stops early
    /// reads no further slot).
    /// </summary>
    private IEnumerable<(MapleNode Node, MapleEntry Entry)> Read()
    {
        if (this.root is { } rootVar)
        {
            var node = rootVar.RcuDereference()!;
            foreach (var entry in node.Entries)
            {
                yield return (node, entry);
            }

            yield break;
        }

        foreach (var slot in this.slots)
        {
            if (slot.RcuDereference() is { } node)
            {
                yield return (node, node.Entries[0]);
            }
        }
    }

    /// <summary>vma_iter_store(): publishes the VMA over [start, end), replacing its previous range.</summary>
    public void Store(VmAreaStruct vma, ulong start, ulong end)
    {
        using var fn = this.World.Enter("vma_iter_store", $"{vma.Name}, {VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)}");
        if (this.root is { } rootVar)
        {
            this.Publish(rootVar, [], new MapleEntry(start, end, vma));
            return;
        }

        var slot = this.SlotOf(vma) ?? this.slots.FirstOrDefault(s => s.Peek() is null)
            ?? throw new InvalidOperationException($"{this.Name} is full: a scenario maps more than {Slots} VMAs");
        var replaced = slot.Peek();
        slot.RcuAssignPointer(this.NewNode([new MapleEntry(start, end, vma)]));
        this.World.Emit(new VmaTreeChanged(this.World.Current.Name, this.mm.Name, vma.Name, Inserted: true));
        this.FreeAfterGracePeriod(replaced);
    }

    /// <summary>
    /// vma_iter_store_overwrite(): publishes the VMA over [start, end), whose range takes in
    /// <paramref name="overwritten"/>'s (if any): in v7.0's tree one new node, so a reader finds either the
    /// old ranges or the new one, never the gap between; in the tree of slots the overwritten VMA's
    /// slot is cleared first.
    /// </summary>
    public void StoreOverwrite(VmAreaStruct vma, ulong start, ulong end, VmAreaStruct? overwritten)
    {
        if (this.root is { } rootVar)
        {
            using var fn = this.World.Enter("vma_iter_store_overwrite", $"{vma.Name}, {VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)}");
            this.Publish(rootVar, overwritten is null ? [] : [overwritten], new MapleEntry(start, end, vma));
            return;
        }

        if (overwritten is not null)
        {
            this.Erase(overwritten);
        }

        this.Store(vma, start, end);
    }

    /// <summary>vma_iter_clear(): removes the VMA from the tree.</summary>
    public void Erase(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_iter_clear", vma.Name);
        if (this.root is { } rootVar)
        {
            this.World.VmBugOn(rootVar.Peek()!.Entries.All(e => e.Vma != vma), $"vma_iter_clear: {vma.Name} is not in {this.Name}");
            this.Publish(rootVar, [vma], null);
            return;
        }

        var slot = this.SlotOf(vma);
        this.World.VmBugOn(slot is null, $"vma_iter_clear: {vma.Name} is not in {this.Name}");
        var replaced = slot!.Peek();
        slot.RcuAssignPointer(null);
        this.World.Emit(new VmaTreeChanged(this.World.Current.Name, this.mm.Name, vma.Name, Inserted: false));
        this.FreeAfterGracePeriod(replaced);
    }

    /// <summary>Setup only (before any thread runs): puts a VMA in the tree without scheduling points.</summary>
    public void Populate(VmAreaStruct vma)
    {
        var entry = new MapleEntry(vma.VmStart.Peek(), vma.VmEnd.Peek(), vma);
        if (this.root is { } rootVar)
        {
            this.World.Memory.Store(rootVar, this.NewNode([.. rootVar.Peek()!.Entries, entry]), MemoryOrder.Plain);
        }
        else
        {
            var slot = this.slots.First(s => s.Peek() is null);
            this.World.Memory.Store(slot, this.NewNode([entry]), MemoryOrder.Plain);
        }

        this.World.NotifyAtBoot(new VmaInstalledAtBoot(this.mm.Name, vma.Name, vma.VmStart.Peek(), vma.VmEnd.Peek(), vma.VmFlags.Peek()));
    }

    /// <summary>
    /// The v7.0 tree's modification: copy the root node without the entries of <paramref name="removed"/>
    /// (and of the stored VMA), with <paramref name="stored"/>, publish the copy, report each
    /// change (removals first), and free the old root after a grace period.
    /// </summary>
    private void Publish(SharedVar<MapleNode?> rootVar, IReadOnlyList<VmAreaStruct> removed, MapleEntry? stored)
    {
        var old = rootVar.Peek()!;
        var entries = old.Entries.Where(e => !removed.Contains(e.Vma) && e.Vma != stored?.Vma);
        var copy = this.NewNode([.. (stored is null ? entries : entries.Append(stored)).OrderBy(e => e.Start)]);
        rootVar.RcuAssignPointer(copy);
        foreach (var vma in removed)
        {
            this.World.Emit(new VmaTreeChanged(this.World.Current.Name, this.mm.Name, vma.Name, Inserted: false));
        }

        if (stored is not null)
        {
            this.World.Emit(new VmaTreeChanged(this.World.Current.Name, this.mm.Name, stored.Vma.Name, Inserted: true));
        }

        this.FreeAfterGracePeriod(old);
    }

    /// <summary>A node of the tree: in the tree of slots named after its one range, in v7.0's numbered.</summary>
    private MapleNode NewNode(IReadOnlyList<MapleEntry> entries) =>
        new(this.World, this.root is null && entries.Count == 1
            ? $"{this.Name}:node[{entries[0].Vma.Name} {VmAreaStruct.Hex(entries[0].Start)}-{VmAreaStruct.Hex(entries[0].End)})"
            : $"{this.Name}:node{this.nodes++}", entries);

    /// <summary>ma_free_rcu(): a replaced node goes once the readers that may hold it have left (when the tree frees them).</summary>
    private void FreeAfterGracePeriod(MapleNode? replaced)
    {
        if (this.FreesReplacedNodes && replaced is not null)
        {
            this.World.Rcu.CallRcu($"ma_free_rcu({replaced.Name})", () => replaced.Free("ma_free_rcu"));
        }
    }

    private SharedVar<MapleNode?>? SlotOf(VmAreaStruct vma) =>
        this.slots.FirstOrDefault(s => ReferenceEquals(s.Peek()?.Entries[0].Vma, vma));

    private static string DescribeEntry(MapleEntry entry) => $"{entry.Vma.Name} [{VmAreaStruct.Hex(entry.Start)}-{VmAreaStruct.Hex(entry.End)})";

    private static string DescribeSlot(MapleNode? node) => node is null ? "NULL" : DescribeEntry(node.Entries[0]);

    private static string DescribeNode(MapleNode? node) => node is null || node.Entries.Count == 0 ? "(empty)" : string.Join(", ", node.Entries.Select(DescribeEntry));
}
