using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>
/// The CPU running a process's user code (x86 MMU): a load or store at a user address uses the
/// task's TLB; on a miss, or a stale entry, it walks the page table; a missing translation, or a
/// store to a read-only one, raises a page fault (do_user_addr_fault) and the instruction is
/// retried once the fault returns. A store through a valid cached translation does not look at
/// the page table at all: the reason the kernel flushes TLBs after taking rights away.
/// </summary>
public sealed class UserAccess(KernelWorld world, Port.Linux linux)
{
    /// <summary>
    /// A cached translation is gone at an instruction one time in this many (TLB capacity, a
    /// context switch): a controlled choice, so a thread can miss at any point, as on hardware.
    /// </summary>
    private const int TlbEvictionChance = 8;

    /// <summary>A store that ORs <paramref name="bits"/> into the word at <paramref name="address"/>.</summary>
    public void Store(MmStruct mm, ulong address, ulong bits)
    {
        var (page, before) = this.Access(mm, address, v => v | bits, $"user store of 0x{bits:x}");
        world.Emit(new UserStored(world.Current.Name, mm.Name, address, bits, page.Name, before | bits));
    }

    /// <summary>A load of the word at <paramref name="address"/>.</summary>
    public ulong Load(MmStruct mm, ulong address)
    {
        var (page, value) = this.Access(mm, address, null, "user load");
        world.Emit(new UserLoaded(world.Current.Name, mm.Name, address, page.Name, value));
        return value;
    }

    /// <summary>Executes the instruction: the page it reached and the word's value before it.</summary>
    private (Folio Page, ulong Value) Access(MmStruct mm, ulong address, Func<ulong, ulong>? store, string instruction)
    {
        var tlb = world.Current.Tlb;
        var page = address & ~(PageTable.PageSize - 1);
        while (true)
        {
            var entry = tlb.Lookup(mm.Name, page);
            if (entry is not null && world.Chance($"{world.Current.Name}'s TLB entry for {VmAreaStruct.Hex(page)} evicted", TlbEvictionChance))
            {
                entry = null;
            }

            if (entry is null || (store is not null && !entry.Writable) || entry.Generation != mm.TlbGen.Peek())
            {
                tlb.Drop(mm.Name, page);
                entry = this.Walk(mm, address, store is not null);
                if (entry is null)
                {
                    continue; // the page fault has run: retry the instruction
                }

                tlb.Fill(mm.Name, page, entry);
            }

            var folio = (Folio)entry.Page;
            if (folio.Data.TryUserAccess(() => mm.TlbGen.Peek() == entry.Generation, store, instruction, out var value))
            {
                return (folio, value);
            }

            tlb.Drop(mm.Name, page); // flushed between the lookup and the access
        }
    }

    /// <summary>The page walk: a translation from the PTE, or null after the page fault it raised.</summary>
    private TlbEntry? Walk(MmStruct mm, ulong address, bool write)
    {
        // The generation is taken before the walk: a flush during it makes the entry stale at once.
        var generation = mm.TlbGen.Peek();
        var pte = mm.PageTable.Pte(address).ReadOnce();
        if (pte is not null && (!write || pte.Writable))
        {
            return new TlbEntry(pte.Folio, pte.Writable, generation);
        }

        var outcome = linux.DoUserAddrFault(mm, address, write);
        if (outcome.Sigsegv)
        {
            throw new InvalidOperationException($"{world.Current.Name}'s user access at {VmAreaStruct.Hex(address)} got {outcome}: the scenario touches memory it did not map");
        }

        return null;
    }
}
