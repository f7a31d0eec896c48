using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>vma_start_read() trusts its early lockless check and omits the re-check after down_read_trylock().</summary>
public sealed class SkipRecheck : RwsemMutant
{
    public override string Name => "skip-recheck";

    public override string Description => "vma_start_read() omits the vm_lock_seq == mm_lock_seq re-check after down_read_trylock()";

    public override string Origin => "the re-check the per-VMA lock series (v6.4, 5e31275cc997) relies on: a writer can mark the VMA between the early check and the trylock";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(NoReadOnWriteMarkedVma);

    protected override SeqRwsemGeneration Port(KernelWorld world, string name, SequenceOrdering ordering) => new Mutated(world, name, ordering);

    private sealed class Mutated(KernelWorld world, string name, SequenceOrdering ordering) : SeqRwsemGeneration(world, name, ordering)
    {
        /// <summary>Mutated: "the early check passed, so the VMA is not write-locked".</summary>
        protected override bool VmaStartReadRecheck(VmAreaStruct vma) => false;
    }
}
