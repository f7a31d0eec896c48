using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Locking;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Port;

/// <summary>kernel/fork.c: the VMA allocator (until v6.14; mm/vma_init.c from v6.15) and fork's dup_mmap().</summary>
public partial interface Linux
{
    /// <summary>
    /// vm_area_alloc(), kernel/fork.c, v6.4: kmem_cache_alloc(vm_area_cachep), vma_init(), and
    /// vma_lock_alloc(). The VMA is private to its creator until it is inserted in the tree.
    /// </summary>
    VmAreaStruct VmAreaAlloc(MmStruct mm, VmaName name, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, AddressSpace? file = null)
    {
        this.World.MightSleep("kmem_cache_alloc(vm_area_cachep, GFP_KERNEL)");
        return this.VmaCreated(new VmAreaStruct(this.World, mm, name, start, end, flags, anonVma, file: file, vmLock: this.VmaLockAlloc(name)));
    }

    /// <summary>
    /// vma_lock_alloc(), kernel/fork.c, v6.4: the VMA's separately allocated struct vma_lock
    /// (kmem_cache_alloc(vma_lock_cachep), then init_rwsem()).
    /// </summary>
    RwSemaphore VmaLockAlloc(VmaName vmaName) => new(this.World, $"{vmaName}->vm_lock", LockClass.VmLock);

    /// <summary>vm_area_free(), kernel/fork.c, v6.4: call_rcu(vm_area_free_rcu_cb); the callback frees the VMA and its vma_lock.</summary>
    void VmAreaFree(VmAreaStruct vma)
    {
        using var fn = this.World.Enter("vm_area_free", vma.Name);
        this.World.Rcu.CallRcu($"vm_area_free_rcu_cb({vma.Name})", () =>
        {
            // The vma should not be locked while being destroyed.
            this.World.VmBugOn(vma.VmLock.IsLocked(), $"VM_BUG_ON_VMA(rwsem_is_locked(&{vma.Name}->vm_lock->lock))");
            vma.FreeWithLock("vm_area_free_rcu_cb");
            this.World.Emit(new VmaFreed(this.Thread, vma.VmMm.Name, vma.Name));
        });
    }

    /// <summary>
    /// dup_mmap(), kernel/fork.c, v6.5 (v6.4.3 stable), as dup_mm() calls it for fork(): the child's
    /// <paramref name="mm"/> is new and unreachable. With the parent's mmap_lock held for write,
    /// every parent VMA is write-locked (fb49c455323f), then copied into the child
    /// (<see cref="DupMmapCopyVma"/>); the parent's TLB is flushed only once, at the end. The
    /// child's mmap_lock is taken nested inside the parent's (no other thread can reach the child
    /// yet). Returns 0.
    /// </summary>
    int DupMmap(MmStruct mm, MmStruct oldmm)
    {
        using var fn = this.World.Enter("dup_mmap", $"{oldmm.Name} -> {mm.Name}");
        this.MmapWriteLock(oldmm);
        this.MmapWriteLock(mm); // mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING)
        for (var mpnt = oldmm.MmMt.FindVma(0); mpnt is not null; mpnt = oldmm.MmMt.FindVma(mpnt.VmEnd.ReadOnce()))
        {
            this.VmaStartWrite(mpnt); // no page fault may change mpnt or its page table while they are copied
            this.DupMmapCopyVma(mm, mpnt);
        }

        this.MmapWriteUnlock(mm);
        oldmm.FlushTlb("flush_tlb_mm");
        this.MmapWriteUnlock(oldmm);
        return fn.Returns(0);
    }

    /// <summary>
    /// The body of dup_mmap()'s loop once the parent's VMA is dealt with (kernel/fork.c, v6.4; mm/mmap.c
    /// from v6.16): a VM_DONTCOPY VMA is skipped; otherwise vm_area_dup() + anon_vma_fork(): unless
    /// the parent's VMA has no anon_vma (then the child's has none either), the child's VMA is
    /// linked to every anon_vma the parent's is (anon_vma_clone) and gets one of its own, a child
    /// of the parent's; it is stored in the child's tree, and the page table is copied,
    /// write-protecting private writable pages in both processes for copy-on-write
    /// (copy_page_range).
    /// </summary>
    protected sealed void DupMmapCopyVma(MmStruct mm, VmAreaStruct mpnt)
    {
        var flags = (VmFlags)mpnt.VmFlags.ReadOnce();
        if ((flags & VmFlags.DontCopy) != 0)
        {
            return;
        }

        var start = mpnt.VmStart.ReadOnce();
        var end = mpnt.VmEnd.ReadOnce();
        var parentAnonVma = mpnt.AnonVma.ReadOnce();
        var anonVma = parentAnonVma is null ? null : new AnonVma(this.World, this.World.NewName("anon_vma"));
        var tmp = this.VmAreaAlloc(mm, this.World.NewVmaName(), start, end, flags, anonVma);
        if (anonVma is not null)
        {
            tmp.AnonVmaChain = [.. mpnt.AnonVmaChain, anonVma];
        }

        this.VmaIterStoreNew(tmp, start, end);
        this.CopyPageRange(tmp, mpnt);
    }

    /// <summary>A new VMA made by vm_area_alloc() (or taken back from the cache): reported to the monitors when a task made it; passed through.</summary>
    protected sealed VmAreaStruct VmaCreated(VmAreaStruct vma)
    {
        if (this.World.InTask)
        {
            this.World.Emit(new VmaCreated(this.Thread, vma.VmMm.Name, vma.Name, vma.VmStart.Peek(), vma.VmEnd.Peek(), Flags: vma.VmFlags.Peek()));
        }

        return vma;
    }
}
