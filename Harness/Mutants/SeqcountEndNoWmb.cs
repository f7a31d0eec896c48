using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// v6.14 (eb449bd96954) with the smp_wmb() of mm_lock_seqcount_end() (do_raw_write_seqcount_end(),
/// called by vma_end_write_all()) removed: the increment that makes mm_lock_seq even no longer
/// waits for the write section's stores to the VMA. A fault whose re-check reads the even
/// sequence with raw_read_seqcount() (smp_load_acquire) then learns nothing of them, and reads
/// vm_flags from before mprotect changed them: b1f02b95758d's race again, in seqcount terms.
/// <para>
/// Why this smp_wmb() and not mm_lock_seqcount_begin()'s: the begin barrier orders the odd
/// increment before the section's stores, for speculative seqcount readers
/// (mmap_lock_speculate_try_begin/retry, which the port does not model). For the per-VMA lock
/// the odd sequence reaches a reader through vm_lock already: vma_start_write() stores vm_lock_seq
/// under down_write()/up_write(), and a reader's down_read_trylock() acquires from that
/// up_write(), so removing the begin barrier breaks nothing the port can observe.
/// </para>
/// </summary>
public sealed class SeqcountEndNoWmb : Mutant
{
    public override string Name => "seqcount-end-no-wmb";

    public override string Description => "vma_end_write_all() makes mm_lock_seq even without mm_lock_seqcount_end()'s smp_wmb() first";

    public override string Origin => "the smp_wmb() of do_raw_write_seqcount_end() in v6.14's mm_lock_seqcount_end() (eb449bd96954), which carries b1f02b95758d's release into the seqcount";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(NoStaleVmaFieldUnderReadLock);

    public override string Memory => RunRequest.LkmmMemory;

    public override IReadOnlyList<string> Replaces => ["vma_end_write_all"];

    /// <summary>v6.14: the rw_semaphore generation whose mm_lock_seq is a seqcount.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("6.14", w => new On6_14(w))];

    /// <summary>mm_lock_seqcount_end() without its barrier.</summary>
    public interface Patch : Linux6_14
    {
        /// <summary>vma_end_write_all(), include/linux/mmap_lock.h, v6.14, mutated: mm_lock_seqcount_end() without its smp_wmb().</summary>
        void Linux.VmaEndWriteAll(MmStruct mm)
        {
            using var fn = this.World.Enter("vma_end_write_all", mm.Name);
            this.MmapAssertWriteLocked(mm);
            var next = mm.MmLockSeq.Plain() + 1;
            mm.MmLockSeq.SetPlain(next);
            this.MmSequenceBumped(mm, next);
            this.World.Current.KcsanNestableAtomicEnd();
        }
    }

    private sealed class On6_14(KernelWorld world) : Booted(world), Patch;
}
