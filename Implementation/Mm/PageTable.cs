using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>
/// A present page-table entry: the page it maps and whether it allows writes (_PAGE_RW). A
/// copy-on-write mapping is a present entry without it (pte_wrprotect).
/// </summary>
public sealed record Pte(Folio Folio, bool Writable)
{
    public override string ToString() => this.Writable ? $"pfn {this.Folio.Pfn}" : $"pfn {this.Folio.Pfn} (read-only)";
}

/// <summary>
/// struct folio (include/linux/mm_types.h) of one anonymous page: its frame number, the anon_vma
/// it was created under (folio->mapping), how many page tables map it (_mapcount + 1), and the
/// memory itself, one word that user stores OR bits into.
/// </summary>
public sealed class Folio : KernelObject
{
    /// <summary>alloc_anon_folio(): a fresh page holding <paramref name="data"/>, mapped once.</summary>
    public Folio(KernelWorld world, AnonVma? mapping, ulong data = 0)
        : this(world, world.AllocPage(), mapping, data)
    {
    }

    private Folio(KernelWorld world, ulong pfn, AnonVma? mapping, ulong data)
        : base(world, $"page{pfn}")
    {
        this.Pfn = pfn;
        this.Mapping = mapping;
        this.Data = new AtomicVar<ulong>(world, this, "data", data, v => $"0x{v:x}");
    }

    /// <summary>page_to_pfn().</summary>
    public ulong Pfn { get; }

    /// <summary>folio->mapping of an anonymous folio: its anon_vma, set once when the page is created.</summary>
    public AnonVma? Mapping { get; }

    /// <summary>
    /// folio_mapcount(): how many PTEs map the page. Changed and read only under the page table
    /// lock here (page_add_anon_rmap / page_dup_file_rmap / page_remove_rmap), so a plain counter.
    /// </summary>
    public int MapCount { get; set; } = 1;

    /// <summary>
    /// folio_test_lazyfree(): MADV_FREE marked the page freeable (folio_mark_lazyfree()); set under
    /// the page table lock. Reclaim, which would free it, is not modelled.
    /// </summary>
    public bool LazyFree { get; set; }

    /// <summary>The page's contents (one word).</summary>
    public AtomicVar<ulong> Data { get; }
}

/// <summary>
/// The last level of an mm's page table for the scenario's address range: one PTE per 4 KiB page,
/// holding the page mapped there, or none (pte_none).
/// </summary>
public sealed class PageTable : KernelObject
{
    public const ulong PageSize = 0x1000;
    private readonly ulong firstAddress;
    private readonly SharedVar<Pte?>[] ptes;

    public PageTable(KernelWorld world, string name, ulong firstAddress, int pages)
        : base(world, name)
    {
        this.firstAddress = firstAddress;
        this.ptes = new SharedVar<Pte?>[pages];
        for (var i = 0; i < pages; i++)
        {
            var address = firstAddress + ((ulong)i * PageSize);
            this.ptes[i] = new SharedVar<Pte?>(world, this, $"pte[0x{address:x}]", null, v => v?.ToString() ?? "none");
        }
    }

    /// <summary>The page table lock (pte_lockptr): a spinlock in the kernel, a controlled lock here.</summary>
    public object Ptl { get; } = new();

    /// <summary>pte_offset_map() + ptep_get(): the PTE covering the address.</summary>
    public SharedVar<Pte?> Pte(ulong address)
    {
        var index = (address - this.firstAddress) / PageSize;
        if (address < this.firstAddress || index >= (ulong)this.ptes.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x} is outside the scenario's page table");
        }

        return this.ptes[index];
    }

    /// <summary>The PTEs of [start, end), with their addresses.</summary>
    public IEnumerable<(ulong Address, SharedVar<Pte?> Pte)> Range(ulong start, ulong end)
    {
        for (var address = start; address < end; address += PageSize)
        {
            yield return (address, this.Pte(address));
        }
    }

    /// <summary>Setup only (before any thread runs): maps a page without scheduling points.</summary>
    public void Populate(ulong address, Pte pte) => this.World.Memory.Store(this.Pte(address), pte, MemoryOrder.Plain);
}
