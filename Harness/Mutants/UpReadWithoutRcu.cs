using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// vma_end_read() calls up_read() outside an RCU read-side critical section: once the count is
/// released a writer can take the lock, detach the VMA and free it (no RCU reader delays the
/// callback), while up_read() goes on to wake waiters through the freed rw_semaphore (PROTOCOL B9).
/// </summary>
public sealed class UpReadWithoutRcu : Mutant
{
    public override string Name => "up-read-without-rcu";

    public override string Description => "vma_end_read() drops rcu_read_lock() around up_read(): up_read's wake-up can touch a VMA freed meanwhile";

    public override string Origin => "the review of the per-VMA lock series v1 (Jan 2023): RCU around up_read() and RCU-delayed VMA freeing";

    public override string Scenario => "fault-vs-munmap";

    public override string CaughtBy => nameof(NoUseAfterFree);

    public override IReadOnlyList<string> Replaces => ["vma_end_read"];

    /// <summary>The rw_semaphore generations: the same vma_end_read() in each.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } =
        [MutantKernel.On("6.4", w => new On6_4(w)), MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w))];

    /// <summary>vma_end_read() as the v1 series had it.</summary>
    public interface Patch : Linux
    {
        /// <summary>vma_end_read(), include/linux/mm.h, v6.4, mutated: no RCU read lock around the release.</summary>
        void Linux.VmaEndRead(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_end_read", vma.Name);
            this.World.Emit(new VmaReadUnlocked(this.Thread, vma.VmMm.Name, vma.Name));
            vma.VmLock.UpRead();
        }
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux6_5, Patch;

    private sealed class On6_14(KernelWorld world) : Booted(world), Linux6_14, Patch;
}
