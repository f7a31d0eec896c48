using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// mm_lock_seq (and so every vm_lock_seq, which copies it) wraps at 2 bits. After four sequence
/// bumps a VMA's stale vm_lock_seq equals mm_lock_seq again, so vma_start_write() believes the VMA
/// is already write-locked and returns without draining its readers (PROTOCOL.md, counter wrap).
/// </summary>
public sealed class NarrowSeq : RwsemMutant
{
    /// <summary>The counter's width in bits.</summary>
    public const int Bits = 2;

    public override string Name => "narrow-seq";

    public override string Description => $"mm_lock_seq wraps at {Bits} bits: a stale vm_lock_seq matches again after {1 << Bits} write sequences";

    public override string Origin => "the counter-wrap analysis of PROTOCOL.md 8: wraps must only cause false \"locked\" results, which needs a wide counter";

    public override string Scenario => "long-fault-vs-writers";

    /// <summary>
    /// The skipped drain breaks vma_start_write()'s postcondition at once, readers inside or not.
    /// The headline invariant cannot see this bug: a wrapped counter only ever makes readers fail.
    /// </summary>
    public override string CaughtBy => nameof(SpecConformance);

    /// <summary>6.4: an int counter with no seqcount parity to protect it.</summary>
    public override bool AppliesTo(GenerationInfo generation) => generation.Name == "6.4";

    protected override SeqRwsemGeneration Port(KernelWorld world, string name, SequenceOrdering ordering) => new Mutated(world, name, ordering);

    private sealed class Mutated(KernelWorld world, string name, SequenceOrdering ordering) : SeqRwsemGeneration(world, name, ordering)
    {
        /// <summary>Mutated: mm_lock_seq + 1, truncated to the narrow width.</summary>
        protected override void BumpMmLockSeq(MmStruct mm) => this.StoreMmLockSeq(mm, (mm.MmLockSeq.Plain() + 1) & ((1 << Bits) - 1));
    }
}
