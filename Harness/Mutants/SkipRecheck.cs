using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>vma_start_read() trusts its early lockless check and omits the re-check after down_read_trylock().</summary>
public sealed class SkipRecheck : Mutant
{
    public override string Name => "skip-recheck";

    public override string Description => "vma_start_read() omits the vm_lock_seq == mm_lock_seq re-check after down_read_trylock()";

    public override string Origin => "the re-check the per-VMA lock series (v6.4, 5e31275cc997) relies on: a writer can mark the VMA between the early check and the trylock";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(NoReadOnWriteMarkedVma);

    public override IReadOnlyList<string> Replaces => ["vma_start_read"];

    /// <summary>The rw_semaphore generations: v6.4's vma_start_read() and v6.5's (also 6.14's), each without its re-check.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } =
        [MutantKernel.On("6.4", w => new On6_4(w)), MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w))];

    /// <summary>vma_start_read() without its re-check.</summary>
    public interface Patch : Linux
    {
        /// <summary>vma_start_read(), include/linux/mm.h, v6.4, mutated: "the early check passed, so the VMA is not write-locked".</summary>
        bool Linux.VmaStartRead(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_start_read", vma.Name);

            // Check before locking. A race might cause false locked result.
            if (vma.VmLockSeq.Plain() == vma.VmMm.MmLockSeq.ReadOnce())
            {
                return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
            }

            if (!vma.VmLock.DownReadTrylock())
            {
                return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
            }

            return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, true));
        }
    }

    /// <summary>v6.5's vma_start_read() without its re-check.</summary>
    public interface PatchV6_5 : Linux6_5
    {
        /// <summary>vma_start_read(), include/linux/mm.h, v6.5, mutated: "the early check passed, so the VMA is not write-locked".</summary>
        bool Linux.VmaStartRead(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_start_read", vma.Name);

            // Check before locking. A race might cause false locked result.
            if (vma.VmLockSeq.ReadOnce() == vma.VmMm.MmLockSeq.ReadOnce())
            {
                return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
            }

            if (!vma.VmLock.DownReadTrylock())
            {
                return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, false));
            }

            return fn.Returns(this.VmaStartReadReturned(vma.VmMm, vma, true));
        }
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), PatchV6_5;

    private sealed class On6_14(KernelWorld world) : Booted(world), Linux6_14, PatchV6_5;
}
