using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>
/// The last level of an mm's page table for the scenario's address range: one PTE per 4 KiB page,
/// holding the number of the page frame mapped there, or 0 (pte_none).
/// </summary>
public sealed class PageTable : KernelObject
{
    public const ulong PageSize = 0x1000;
    private readonly ulong firstAddress;
    private readonly SharedVar<ulong>[] ptes;

    public PageTable(KernelWorld world, string name, ulong firstAddress, int pages)
        : base(world, name)
    {
        this.firstAddress = firstAddress;
        this.ptes = new SharedVar<ulong>[pages];
        for (var i = 0; i < pages; i++)
        {
            var address = firstAddress + ((ulong)i * PageSize);
            this.ptes[i] = new SharedVar<ulong>(world, this, $"pte[0x{address:x}]", 0, v => v == 0 ? "none" : $"pfn {v}");
        }
    }

    /// <summary>The page table lock (pte_lockptr): a spinlock in the kernel, a controlled lock here.</summary>
    public object Ptl { get; } = new();

    /// <summary>pte_offset_map() + ptep_get(): the PTE covering the address.</summary>
    public SharedVar<ulong> Pte(ulong address)
    {
        var index = (address - this.firstAddress) / PageSize;
        if (address < this.firstAddress || index >= (ulong)this.ptes.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x} is outside the scenario's page table");
        }

        return this.ptes[index];
    }

    /// <summary>The PTEs of [start, end).</summary>
    public IEnumerable<SharedVar<ulong>> Range(ulong start, ulong end)
    {
        for (var address = start; address < end; address += PageSize)
        {
            yield return this.Pte(address);
        }
    }
}
