using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>One range of the tree: the tree keeps its own copy of the range, as maple tree pivots do.</summary>
public sealed record MapleEntry(ulong Start, ulong End, VmAreaStruct Vma);

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

    /// <summary>find_vma(): the first VMA ending above <paramref name="address"/> (caller holds mmap_lock).</summary>
    public VmAreaStruct? FindVma(ulong address)
    {
        using var fn = this.World.Enter("find_vma", VmAreaStruct.Hex(address));
        MapleEntry? best = null;
        foreach (var slot in this.slots)
        {
            if (slot.RcuDereference() is { } entry && entry.End > address && (best is null || entry.Start < best.Start))
            {
                best = entry;
            }
        }

        return fn.Returns(best?.Vma);
    }

    /// <summary>vma_prev() / mas_prev(): the VMA below <paramref name="vma"/>, the highest one ending at or before its start.</summary>
    public VmAreaStruct? VmaPrev(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("mas_prev", vma.Name);
        MapleEntry? best = null;
        var start = vma.VmStart.ReadOnce();
        foreach (var slot in this.slots)
        {
            if (slot.RcuDereference() is { } entry && entry.End <= start && (best is null || entry.End > best.End))
            {
                best = entry;
            }
        }

        return fn.Returns(best?.Vma);
    }

    /// <summary>vma_iter_store(): publishes the VMA over [start, end), replacing its previous range.</summary>
    public void Store(VmAreaStruct vma, ulong start, ulong end)
    {
        using var fn = this.World.Enter("vma_iter_store", $"{vma.Name}, {VmAreaStruct.Hex(start)}-{VmAreaStruct.Hex(end)}");
        var slot = this.SlotOf(vma) ?? this.slots.FirstOrDefault(s => s.Peek() is null)
            ?? throw new InvalidOperationException($"{this.Name} is full: a scenario maps more than {Slots} VMAs");
        slot.RcuAssignPointer(new MapleEntry(start, end, vma));
        this.World.Emit(new VmaTreeChanged(this.World.Current.Name, this.mm.Name, vma.Name, Inserted: true));
    }

    /// <summary>vma_iter_clear(): removes the VMA from the tree.</summary>
    public void Erase(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vma_iter_clear", vma.Name);
        var slot = this.SlotOf(vma);
        this.World.VmBugOn(slot is null, $"vma_iter_clear: {vma.Name} is not in {this.Name}");
        slot!.RcuAssignPointer(null);
        this.World.Emit(new VmaTreeChanged(this.World.Current.Name, this.mm.Name, vma.Name, Inserted: false));
    }

    /// <summary>Setup only (before any thread runs): puts a VMA in the tree without scheduling points.</summary>
    public void Populate(VmAreaStruct vma)
    {
        var slot = this.slots.First(s => s.Peek() is null);
        this.World.Memory.Store(slot, new MapleEntry(vma.VmStart.Peek(), vma.VmEnd.Peek(), vma), MemoryOrder.Plain);
    }

    private SharedVar<MapleEntry?>? SlotOf(VmAreaStruct vma) =>
        this.slots.FirstOrDefault(s => ReferenceEquals(s.Peek()?.Vma, vma));

    private static string Describe(MapleEntry? entry) =>
        entry is null ? "NULL" : $"{entry.Vma.Name} [{VmAreaStruct.Hex(entry.Start)}-{VmAreaStruct.Hex(entry.End)})";
}
