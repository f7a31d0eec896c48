using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Locking;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>
/// struct mm_struct (include/linux/mm_types.h, v6.4): mmap_lock, mm_lock_seq (bumped by
/// vma_end_write_all to release every VMA write lock at once) and the VMA tree, mm_mt.
/// </summary>
public sealed class MmStruct : KernelObject
{
    /// <summary>Where the scenarios map their VMAs: 16 pages from 0x10000.</summary>
    public const ulong TaskBase = 0x10000;

    public MmStruct(KernelWorld world, MmName name)
        : base(world, name.Name)
    {
        this.PageTable = new PageTable(world, $"{name}->pgd", TaskBase, 16);
        this.MmapLock = new RwSemaphore(world, $"{name}->mmap_lock", LockClass.MmapLock);
        this.MmLockSeq = new SharedVar<int>(world, this, "mm_lock_seq", 0);
        this.MmMt = new MapleTree(world, this);
        this.VmaWriterWait = new SharedVar<TaskStruct?>(world, this, "vma_writer_wait.task", null, t => t?.ToString() ?? "NULL");
        this.MmCount = new AtomicVar<int>(world, this, "mm_count", 1);
        this.TlbGen = new AtomicVar<long>(world, this, "context.tlb_gen", 0);
    }

    /// <summary>The mm's name as events and the Spec take it: the object's <see cref="KernelObject.Name"/>, typed.</summary>
    public new MmName Name => new(base.Name);

    /// <summary>
    /// mm->context.tlb_gen (arch/x86/include/asm/mmu.h): bumped by every TLB flush of the mm. A
    /// CPU's cached translation of the mm filled at an older generation has been flushed.
    /// </summary>
    public AtomicVar<long> TlbGen { get; }

    /// <summary>
    /// flush_tlb_mm() / flush_tlb_page() (arch/x86/mm/tlb.c): inc_mm_tlb_gen(), then every CPU
    /// running the mm drops its stale translations before the flush returns. The port flushes the
    /// whole mm either way, which only ever flushes more than the kernel.
    /// </summary>
    public void FlushTlb(string function)
    {
        using var fn = this.World.Enter(function, this.Name);
        this.TlbGen.Update(g => g + 1, MemoryOrder.Full, "inc_mm_tlb_gen");
    }

    /// <summary>mm->vma_writer_wait (v6.15+): the rcuwait a writer sleeps on until a VMA's readers leave.</summary>
    public SharedVar<TaskStruct?> VmaWriterWait { get; }

    /// <summary>mm->mm_count: references to the mm_struct itself (mmgrab / mmdrop).</summary>
    public AtomicVar<int> MmCount { get; }

    /// <summary>mmgrab(), include/linux/sched/mm.h: atomic_inc(&amp;mm->mm_count).</summary>
    public void MmGrab()
    {
        using var fn = this.World.Enter("mmgrab", this.Name);
        this.MmCount.Add(1);
        this.World.Emit(new MmGrabbed(this.World.Current.Name, this.Name));
    }

    /// <summary>mmdrop(), include/linux/sched/mm.h: the last reference frees the mm (__mmdrop); mm_structs are not SLAB_TYPESAFE_BY_RCU.</summary>
    public void MmDrop()
    {
        using var fn = this.World.Enter("mmdrop", this.Name);
        var last = this.MmCount.SubAndTest(1, out _);
        this.World.Emit(new MmDropped(this.World.Current.Name, this.Name, last));
        if (last)
        {
            this.MmapLock.Free("__mmdrop");
            this.MmMt.Free("__mmdrop");
            this.PageTable.Free("__mmdrop");
            this.Free("__mmdrop");
        }
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
