using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>vma_start_write() stores vm_lock_seq without taking vm_lock for write, so readers already inside are not waited for.</summary>
public sealed class NoDrain : Mutant
{
    public override string Name => "no-drain";

    public override string Description => "vma_start_write() sets vm_lock_seq without down_write(&vma->vm_lock->lock): current readers are not drained";

    public override string Origin => "the down_write/up_write pair of vma_start_write() (v6.4, 5e31275cc997) that waits for readers to leave";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(WriterExcludesReaders);

    public override IReadOnlyList<string> Replaces => ["vma_start_write"];

    /// <summary>The rw_semaphore generations: v6.4's vma_start_write() and v6.5's (also 6.14's), each without down_write()/up_write().</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } =
        [MutantKernel.On("6.4", w => new On6_4(w)), MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w))];

    /// <summary>vma_start_write() without down_write()/up_write() on vm_lock.</summary>
    public interface Patch : Linux
    {
        /// <summary>vma_start_write(), include/linux/mm.h, v6.4, mutated: mark the VMA without waiting for its readers.</summary>
        void Linux.VmaStartWrite(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_start_write", vma.Name);
            if (this.__IsVmaWriteLocked(vma, out var mmLockSeq))
            {
                this.VmaStartWriteReturned(vma, wasAlreadyMarked: true);
                return;
            }

            vma.VmLockSeq.SetPlain(mmLockSeq);
            this.VmaWriteMarked(vma, mmLockSeq);
            this.VmaStartWriteReturned(vma, wasAlreadyMarked: false);
        }
    }

    /// <summary>v6.5's vma_start_write() without down_write()/up_write() on vm_lock.</summary>
    public interface PatchV6_5 : Linux6_5
    {
        /// <summary>vma_start_write(), include/linux/mm.h, v6.5, mutated: mark the VMA without waiting for its readers.</summary>
        void Linux.VmaStartWrite(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_start_write", vma.Name);
            if (this.__IsVmaWriteLocked(vma, out var mmLockSeq))
            {
                this.VmaStartWriteReturned(vma, wasAlreadyMarked: true);
                return;
            }

            vma.VmLockSeq.WriteOnce(mmLockSeq);
            this.VmaWriteMarked(vma, mmLockSeq);
            this.VmaStartWriteReturned(vma, wasAlreadyMarked: false);
        }
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), PatchV6_5;

    private sealed class On6_14(KernelWorld world) : Booted(world), Linux6_14, PatchV6_5;
}
