using VmaLockVerify.Implementation.Fs;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// PROCMAP_QUERY with the RCU section of 8b877c5aaaaf ('mm/maps: execute PROCMAP_QUERY ioctl under
/// per-vma locks', linux-next 20250630): query_vma_setup() takes rcu_read_lock() and
/// query_vma_teardown() drops it, so the whole query runs under RCU, and do_procmap_query()'s
/// kmalloc(GFP_KERNEL) of the name buffer may sleep inside it (syzbot 6246a83e7bd9f8a3e239,
/// "BUG: sleeping function called from invalid context in procfs_procmap_ioctl"). The series was
/// fixed before it was merged by narrowing the section to the lookup in
/// query_vma_find_by_addr(), as v7.0 has it.
/// </summary>
public sealed class QueryKmallocUnderRcu : Mutant
{
    public override string Name => "query-kmalloc-under-rcu";

    public override string Description => "PROCMAP_QUERY holds rcu_read_lock() from query_vma_setup() to query_vma_teardown(): do_procmap_query()'s kmalloc(GFP_KERNEL) of the name buffer sleeps under RCU";

    public override string Origin =>
        "the RCU section of 8b877c5aaaaf (linux-next 20250630, 'mm/maps: execute PROCMAP_QUERY ioctl under per-vma locks'), reported by syzbot 6246a83e7bd9f8a3e239 " +
        "and fixed before the merge by taking RCU only around lock_next_vma() in query_vma_find_by_addr(); ported onto v7.0's per-query lock context";

    public override string Scenario => "procmap-query-vs-munmap";

    public override string CaughtBy => nameof(NoSleepUnderRcu);

    public override IReadOnlyList<string> Replaces => ["query_vma_setup", "query_vma_teardown", "query_vma_find_by_addr"];

    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("7.0", w => new On7_0(w))];

    /// <summary>The query's setup, teardown and lookup with RCU held across the query.</summary>
    public interface Patch : Linux7_0
    {
        /// <summary>query_vma_setup(), fs/proc/task_mmu.c, as 8b877c5aaaaf had it: enter RCU for the whole query.</summary>
        int Linux7_0.QueryVmaSetup(ProcMapsLockingCtx lockCtx)
        {
            using var fn = this.World.Enter("query_vma_setup", lockCtx.Mm.Name);
            this.World.Rcu.ReadLock();
            lockCtx.LockedVma = null;
            lockCtx.MmapLocked = false;
            return fn.Returns(0);
        }

        /// <summary>query_vma_teardown(), fs/proc/task_mmu.c, as 8b877c5aaaaf had it: drop the VMA read lock, then leave RCU.</summary>
        void Linux7_0.QueryVmaTeardown(ProcMapsLockingCtx lockCtx)
        {
            using var fn = this.World.Enter("query_vma_teardown", lockCtx.Mm.Name);
            this.UnlockCtxVma(lockCtx);
            this.World.Rcu.ReadUnlock();
        }

        /// <summary>query_vma_find_by_addr(), fs/proc/task_mmu.c, as 8b877c5aaaaf had it: the lookup under the query's RCU section.</summary>
        VmaPtr Linux7_0.QueryVmaFindByAddr(ProcMapsLockingCtx lockCtx, ulong addr)
        {
            using var fn = this.World.Enter("query_vma_find_by_addr", $"{lockCtx.Mm.Name}, {VmAreaStruct.Hex(addr)}");
            var vmi = new VmaIterator(lockCtx.Mm, addr); // vma_iter_init(&priv->iter, priv->mm, addr)
            this.UnlockCtxVma(lockCtx);
            var vma = this.LockNextVma(lockCtx.Mm, vmi, addr);
            if (!vma.IsErrOrNull)
            {
                lockCtx.LockedVma = vma.Vma;
            }

            return fn.Returns(vma);
        }
    }

    private sealed class On7_0(KernelWorld world) : Booted(world), Patch;
}
