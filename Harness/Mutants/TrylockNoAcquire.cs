using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Locking;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// The per-VMA rw_semaphore's __down_read_trylock() (kernel/locking/rwsem.c, v6.4) with
/// atomic_long_try_cmpxchg() relaxed instead of _acquire. vma_start_write() stores vm_lock_seq
/// between down_write() and up_write(), and vma_start_read()'s comment ("False unlocked result is
/// impossible because we modify and check vma->vm_lock_seq under vma->vm_lock protection") relies
/// on the trylock acquiring from that up_write(). Relaxed, the re-check can read the old
/// vm_lock_seq, see it differ from the current sequence, and keep the read lock of a VMA
/// write-locked in that sequence. The re-check's load of vm_lock_seq is plain in the kernel (only
/// the early check is READ_ONCE), so with every invariant the first report is its data race with
/// vma_start_write()'s WRITE_ONCE; without NoDataRace, NoReadOnWriteMarkedVma reports the read lock
/// itself (LkmmExploreTests).
/// </summary>
public sealed class TrylockNoAcquire : Mutant
{
    public override string Name => "trylock-no-acquire";

    public override string Description => "vm_lock's down_read_trylock() takes the count with a relaxed cmpxchg: vma_start_read()'s re-check may read vm_lock_seq from before the writer's up_write()";

    public override string Origin => "the _acquire of atomic_long_try_cmpxchg_acquire() in __down_read_trylock(), kernel/locking/rwsem.c, which pairs with __up_write()'s release";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(NoDataRace);

    public override string Memory => RunRequest.LkmmMemory;

    /// <summary>
    /// down_read_trylock() of rwsem.c (<see cref="RelaxedTrylock"/>); rw_semaphores are objects of
    /// their own, so the mutated one reaches the per-VMA locks through vma_lock_alloc(), their
    /// allocator (the only trylock callers in the port are vma_start_read() and the unused
    /// mmap_read_trylock()).
    /// </summary>
    public override IReadOnlyList<string> Replaces => ["vma_lock_alloc", "down_read_trylock"];

    /// <summary>
    /// 6.5. On 6.14 the same mutation is caught too, but first as a stale field: the re-check can
    /// also read an older, odd mm_lock_seq there, so the fault keeps a VMA whose section has ended
    /// and reads its vm_flags from before it (NoStaleVmaFieldUnderReadLock, 39 iterations, seed 1).
    /// On 6.4 the generation's own relaxed mm_lock_seq would be reported first.
    /// </summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.5", w => new On6_5(w))];

    /// <summary>The per-VMA locks allocated as rw_semaphores with the mutated trylock.</summary>
    public interface Patch : Linux
    {
        /// <summary>vma_lock_alloc(), kernel/fork.c, v6.4, with the mutated rw_semaphore of <see cref="RelaxedTrylock"/>.</summary>
        RwSemaphore Linux.VmaLockAlloc(Spec.VmaName vmaName) => new RelaxedTrylock(this.World, $"{vmaName}->vm_lock", Spec.LockClass.VmLock);
    }

    public sealed class RelaxedTrylock(KernelWorld world, string name, Spec.LockClass lockClass) : RwSemaphore(world, name, lockClass)
    {
        /// <summary>down_read_trylock() / __down_read_trylock(), kernel/locking/rwsem.c, v6.4, mutated: atomic_long_try_cmpxchg_relaxed.</summary>
        public override bool DownReadTrylock()
        {
            using var fn = this.World.Enter("down_read_trylock", this.Name);
            var tmp = this.Count.AtomicRead();
            while ((tmp & ReadFailedMask) == 0)
            {
                if (this.Count.TryCmpxchg(ref tmp, tmp + ReaderBias, MemoryOrder.Relaxed))
                {
                    this.SetReaderOwned();
                    this.Lockdep(Spec.LockMode.Read, trylock: true);
                    return fn.Returns(true);
                }
            }

            return fn.Returns(false);
        }
    }

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux6_5, Patch;
}
