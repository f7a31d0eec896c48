using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Locking;
using VmaLockVerify.Implementation.Memory;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>
/// struct mm_struct (include/linux/mm_types.h, v6.4): mmap_lock, mm_lock_seq (bumped by
/// vma_end_write_all to release every VMA write lock at once) and the VMA tree, mm_mt.
/// </summary>
public sealed class MmStruct : KernelObject
{
    /// <summary>Where the scenarios map their VMAs: 16 pages from 0x10000.</summary>
    public const ulong TaskBase = 0x10000;

    public MmStruct(KernelWorld world, string name)
        : base(world, name)
    {
        this.PageTable = new PageTable(world, $"{name}->pgd", TaskBase, 16);
        this.MmapLock = new RwSemaphore(world, $"{name}->mmap_lock");
        this.MmLockSeq = new SharedVar<int>(world, this, "mm_lock_seq", 0);
        this.MmMt = new MapleTree(world, this);
    }

    /// <summary>mm->mmap_lock.</summary>
    public RwSemaphore MmapLock { get; }

    /// <summary>mm->mm_lock_seq.</summary>
    public SharedVar<int> MmLockSeq { get; }

    /// <summary>The page table (mm->pgd, its last level).</summary>
    public PageTable PageTable { get; }

    /// <summary>mm->mm_mt: the VMA tree, walked under RCU by lock_vma_under_rcu.</summary>
    public MapleTree MmMt { get; }
}
