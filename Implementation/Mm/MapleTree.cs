using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>
/// One range of the tree, in the leaf node that holds it: the node keeps its own copy of the range,
/// as maple tree pivots do, and is never changed once published. A modification publishes a new
/// node in its place; where the tree frees replaced nodes (<see cref="MapleTree.FreesReplacedNodes"/>)
/// the old one is freed after a grace period (ma_free_rcu()), so a reader may use it only inside
/// the RCU read-side section in which it found it.
/// </summary>
public sealed class MapleEntry(KernelWorld world, string name, ulong start, ulong end, VmAreaStruct vma) : KernelObject(world, name)
{
    public ulong Start { get; } = start;

    public ulong End { get; } = end;

    public VmAreaStruct Vma { get; } = vma;
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
    public MapleEntry? Node { get; set; }

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
    internal void Found(MapleEntry entry)
    {
        this.Node = entry;
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
/// mm->mm_mt reduced to what the per-VMA lock depends on (lib/maple_tree.c): a few slots, each an
/// RCU-published pointer to an immutable range entry. Readers walk it under rcu_read_lock with
/// rcu_dereference; writers (holding mmap_lock for write) replace entries with rcu_assign_pointer,
/// so a reader sees either the old or the new range, never a torn one.
/// </summary>
public sealed class MapleTree : KernelObject
{
    private const int Slots = 4;
    private readonly MmStruct mm;
    private readonly SharedVar<MapleEntry?>[] slots;

    public MapleTree(KernelWorld world, MmStruct mm)
        : base(world, $"{mm.Name}->mm_mt")
    {
        this.mm = mm;
        this.slots = new SharedVar<MapleEntry?>[Slots];
        for (var i = 0; i < Slots; i++)
        {
            this.slots[i] = new SharedVar<MapleEntry?>(world, this, $"slot[{i}]", null, Describe);
        }
    }

    /// <summary>mas_walk(): the VMA whose range contains <paramref name="address"/>, under RCU.</summary>
    public VmAreaStruct? MasWalk(ulong address)
    {
        using var fn = this.World.Enter("mas_walk", VmAreaStruct.Hex(address));
        foreach (var slot in this.slots)
        {
            if (slot.RcuDereference() is { } entry && entry.Start <= address && address < entry.End)
            {
                return fn.Returns(entry.Vma);
            }
        }

        return fn.Returns<VmAreaStruct?>(null);
    }

    /// <summary>
    /// Whether replaced nodes are freed after a grace period (ma_free_rcu()), which is what the
    /// kernel does in every generation; the generations whose readers keep an ma_state across RCU
    /// sections (v7.0's lock_vma_under_rcu()) turn it on, and the others keep the tree whose old
    /// entries simply stay valid (and their schedules, traces and memory-model histories unchanged).
    /// </summary>
    public bool FreesReplacedNodes { get; set; }

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
            return fn.Returns<VmAreaStruct?>(cached.Start <= mas.Index && mas.Index < cached.End ? cached.Vma : null);
        }

        foreach (var slot in this.slots)
        {
            if (slot.RcuDereference() is { } entry && entry.Start <= mas.Index && mas.Index < entry.End)
            {
                mas.Node = entry;
                return fn.Returns(entry.Vma);
            }
        }

        return fn.Returns<VmAreaStruct?>(null);
    }

    /// <summary>
    /// mas_find(&amp;mas, ULONG_MAX) (lib/maple_tree.c), as vma_next() calls it: the first VMA ending
    /// above mas->index, from MAS_START by walking the tree; from an active state by going on from
    /// the node the state caches (a use-after-free if a grace period has freed that node since).
    /// </summary>
    public VmAreaStruct? MasFind(MaState mas)
    {
        using var fn = this.World.Enter("mas_find", $"&mas, {VmAreaStruct.Hex(mas.Index)}{(mas.Node is null ? "" : $", active at {mas.Node.Name}")}");
        mas.Node?.CheckAlive(AccessKind.Load, "mas_find", "slot");
        if (this.FirstEndingAbove(mas.Index) is not { } found)
        {
            return fn.Returns<VmAreaStruct?>(null);
        }

        mas.Found(found);
        return fn.Returns(found.Vma);
    }

    /// <summary>find_vma(): the first VMA ending above <paramref name="address"/> (caller holds mmap_lock).</summary>
    public VmAreaStruct? FindVma(ulong address)
    {
        using var fn = this.World.Enter("find_vma", VmAreaStruct.Hex(address));
        return fn.Returns(this.FirstEndingAbove(address)?.Vma);
    }

    /// <summary>The entry of the lowest range that ends above <paramref name="address"/>, each slot read with rcu_dereference().</summary>
    private MapleEntry? FirstEndingAbove(ulong address)
    {
        MapleEntry? best = null;
        foreach (var slot in this.slots)
        {
            if (slot.RcuDereference() is { } entry && entry.End > address && (best is null || entry.Start < best.Start))
            {
                best = entry;
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

    /// <summary>The entry of the highest range that ends at or below <paramref name="address"/>, each slot read with rcu_dereference().</summary>
    private MapleEntry? LastEndingAtOrBelow(ulong address)
    {
        MapleEntry? best = null;
        foreach (var slot in this.slots)
        {
            if (slot.RcuDereference() is { } entry && entry.End <= address && (best is null || entry.End > best.End))
            {
                best = entry;
            }
        }

        return best;
    }

    /// <summary>vma_iter_store(): publishes the VMA over [start, end), replacing its previous range.</summary>
    public void Store(VmAreaStruct vma, ulong start, ulong end)
    {
        using var fn = this.World.Enter("vma_iter_store", $"{vma.Name}, {VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)}");
        var slot = this.SlotOf(vma) ?? this.slots.FirstOrDefault(s => s.Peek() is null)
            ?? throw new InvalidOperationException($"{this.Name} is full: a scenario maps more than {Slots} VMAs");
        var replaced = slot.Peek();
        slot.RcuAssignPointer(this.NewNode(start, end, vma));
        this.World.Emit(new VmaTreeChanged(this.World.Current.Name, this.mm.Name, vma.Name, Inserted: true));
        this.FreeAfterGracePeriod(replaced);
    }

    /// <summary>vma_iter_clear(): removes the VMA from the tree.</summary>
    public void Erase(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_iter_clear", vma.Name);
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
        var slot = this.slots.First(s => s.Peek() is null);
        this.World.Memory.Store(slot, this.NewNode(vma.VmStart.Peek(), vma.VmEnd.Peek(), vma), MemoryOrder.Plain);
        this.World.NotifyAtBoot(new VmaInstalledAtBoot(this.mm.Name, vma.Name, vma.VmStart.Peek(), vma.VmEnd.Peek(), vma.VmFlags.Peek()));
    }

    private MapleEntry NewNode(ulong start, ulong end, VmAreaStruct vma) =>
        new(this.World, $"{this.Name}:node[{vma.Name} {VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)})", start, end, vma);

    /// <summary>ma_free_rcu(): a replaced node goes once the readers that may hold it have left (when the tree frees them).</summary>
    private void FreeAfterGracePeriod(MapleEntry? replaced)
    {
        if (this.FreesReplacedNodes && replaced is not null)
        {
            this.World.Rcu.CallRcu($"ma_free_rcu({replaced.Name})", () => replaced.Free("ma_free_rcu"));
        }
    }

    private SharedVar<MapleEntry?>? SlotOf(VmAreaStruct vma) =>
        this.slots.FirstOrDefault(s => ReferenceEquals(s.Peek()?.Vma, vma));

    private static string Describe(MapleEntry? entry) =>
        entry is null ? "NULL" : $"{entry.Vma.Name} [{VmAreaStruct.Hex(entry.Start)}-{VmAreaStruct.Hex(entry.End)})";
}
