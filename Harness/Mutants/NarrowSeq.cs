using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// mm_lock_seq (and so every vm_lock_seq, which copies it) wraps at 2 bits. After four sequence
/// bumps a VMA's stale vm_lock_seq equals mm_lock_seq again, so vma_start_write() believes the VMA
/// is already write-locked and returns without draining its readers (docs/protocol.md, counter wrap).
/// </summary>
public sealed class NarrowSeq : Mutant
{
    /// <summary>The counter's width in bits.</summary>
    public const int Bits = 2;

    public override string Name => "narrow-seq";

    public override string Description => $"mm_lock_seq wraps at {Bits} bits: a stale vm_lock_seq matches again after {1 << Bits} write sequences";

    public override string Origin => "the counter-wrap analysis of docs/protocol.md 8: wraps must only cause false \"locked\" results, which needs a wide counter";

    public override string Scenario => "long-fault-vs-writers";

    /// <summary>
    /// The skipped drain breaks vma_start_write()'s postcondition at once, readers inside or not.
    /// The headline invariant cannot see this bug: a wrapped counter only ever makes readers fail.
    /// </summary>
    public override string CaughtBy => nameof(SpecConformance);

    public override IReadOnlyList<string> Replaces => ["vma_end_write_all"];

    /// <summary>6.4: an int counter with no seqcount parity to protect it.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.4", w => new On6_4(w))];

    /// <summary>vma_end_write_all() with a narrow counter.</summary>
    public interface Patch : Linux
    {
        /// <summary>vma_end_write_all(), include/linux/mmap_lock.h, v6.4, mutated: mm_lock_seq + 1, truncated to the narrow width.</summary>
        void Linux.VmaEndWriteAll(MmStruct mm)
        {
            using var fn = this.World.Enter("vma_end_write_all", mm.Name);
            this.MmapAssertWriteLocked(mm);
            var next = (mm.MmLockSeq.Plain() + 1) & ((1 << Bits) - 1);
            mm.MmLockSeq.WriteOnce(next);
            this.MmSequenceBumped(mm, next);
        }
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;
}
