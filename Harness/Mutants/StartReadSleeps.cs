using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>vma_start_read() waits for vm_lock with down_read() instead of trying it: it sleeps inside lock_vma_under_rcu()'s RCU section.</summary>
public sealed class StartReadSleeps : Mutant
{
    public override string Name => "start-read-sleeps";

    public override string Description => "vma_start_read() takes vm_lock with down_read() instead of down_read_trylock(): a fault sleeps under rcu_read_lock() in lock_vma_under_rcu()";

    public override string Origin =>
        "the trylock of vma_start_read() (v6.4, 5e31275cc997): it is called under rcu_read_lock(), where nothing may sleep, so it may only try the lock and fall back to mmap_lock " +
        "(a what-if, never in a release; the same rule syzbot enforced on /proc/PID/maps under per-VMA locks)";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(NoSleepUnderRcu);

    public override IReadOnlyList<string> Replaces => ["vma_start_read"];

    /// <summary>v6.4's vma_start_read() with down_read().</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.4", w => new On6_4(w))];

    /// <summary>vma_start_read() that waits for the lock.</summary>
    public interface Patch : Linux
    {
        /// <summary>vma_start_read(), include/linux/mm.h, v6.4, mutated: down_read() where the kernel has down_read_trylock().</summary>
        bool Linux.VmaStartRead(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_start_read", vma.Name);

            // Check before locking. A race might cause false locked result.
            if (vma.VmLockSeq.Plain() == vma.VmMm.MmLockSeq.ReadOnce())
            {
                return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
            }

            vma.VmLock.DownRead();

            if (vma.VmLockSeq.Plain() == vma.VmMm.MmLockSeq.ReadOnce())
            {
                vma.VmLock.UpRead();
                return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
            }

            return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, true));
        }
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;
}
