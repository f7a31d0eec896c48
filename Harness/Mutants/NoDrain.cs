using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>vma_start_write() stores vm_lock_seq without taking vm_lock for write, so readers already inside are not waited for.</summary>
public sealed class NoDrain : RwsemMutant
{
    public override string Name => "no-drain";

    public override string Description => "vma_start_write() sets vm_lock_seq without down_write(&vma->vm_lock->lock): current readers are not drained";

    public override string Origin => "the down_write/up_write pair of vma_start_write() (v6.4, 5e31275cc997) that waits for readers to leave";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(WriterExcludesReaders);

    protected override SeqRwsemGeneration Port(KernelWorld world, string name, SequenceOrdering ordering) => new Mutated(world, name, ordering);

    private sealed class Mutated(KernelWorld world, string name, SequenceOrdering ordering) : SeqRwsemGeneration(world, name, ordering)
    {
        /// <summary>Mutated: mark the VMA, skipping down_write/up_write on vm_lock.</summary>
        protected override void VmaWriteLockAndMark(VmAreaStruct vma, int mmLockSeq) => this.StoreVmLockSeq(vma, mmLockSeq);
    }
}
