using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// b1f02b95758d ("mm: fix memory ordering for mm_lock_seq and vm_lock_seq", v6.5) reverted on
/// v6.5: vma_end_write_all() stores mm_lock_seq with WRITE_ONCE instead of smp_store_release(),
/// vma_start_read()'s re-check loads it with READ_ONCE instead of smp_load_acquire(), and
/// vm_lock_seq is a plain field again (v6.4's include/linux/mm.h and mmap_lock.h). The commit
/// message's race: a fault sees the write sequence ended, takes the VMA lock, and still reads
/// vm_flags from before the writer changed it (there userfaultfd_register; here mprotect). v6.4
/// as released has exactly these orderings; this is the fix's diff against v6.5. With every
/// invariant the first report is the fix's third part, the data race of the plain vm_lock_seq
/// (vma_start_read()'s early check against vma_start_write()'s store); the commit message's race
/// is NoStaleVmaFieldUnderReadLock's (InvariantTests registers it alone).
/// </summary>
public sealed class SeqWithoutReleaseAcquire : RwsemMutant
{
    public override string Name => "seq-without-release-acquire";

    public override string Description => "vma_end_write_all() stores mm_lock_seq with WRITE_ONCE and vma_start_read()'s re-check loads it with READ_ONCE; vm_lock_seq plain (v6.4's orderings on v6.5)";

    public override string Origin => "reverts b1f02b95758d (v6.5): a fault can see the write sequence ended and read VMA fields from before the writer's change";

    public override string Scenario => "fault-vs-mprotect";

    public override string CaughtBy => nameof(NoDataRace);

    public override string Memory => RunRequest.LkmmMemory;

    /// <summary>v6.5, the release that has the fix (v6.4 is the same code without it; v6.14 moved to a seqcount).</summary>
    public override bool AppliesTo(GenerationInfo generation) => generation.Name == "6.5";

    /// <summary>vm_lock_seq is read and written plainly (vma_start_read, __is_vma_write_locked, vma_start_write): v6.4's accesses.</summary>
    protected override SeqRwsemGeneration Port(KernelWorld world, string name, SequenceOrdering ordering) =>
        new Mutated(world, name, ordering with { VmLockSeq = MemoryOrder.Plain });

    private sealed class Mutated(KernelWorld world, string name, SequenceOrdering ordering) : SeqRwsemGeneration(world, name, ordering)
    {
        /// <summary>Mutated vma_end_write_all(), include/linux/mmap_lock.h, as v6.4: <c>WRITE_ONCE(mm->mm_lock_seq, mm->mm_lock_seq + 1)</c>.</summary>
        public override void VmaEndWriteAll(MmStruct mm)
        {
            using var fn = this.World.Enter("vma_end_write_all", mm.Name);
            this.MmapAssertWriteLocked(mm);
            var next = mm.MmLockSeq.Plain() + 1;
            mm.MmLockSeq.WriteOnce(next);
            this.World.Emit(new MmSequenceBumped(this.Thread, mm.Name, next));
        }

        /// <summary>Mutated re-check of vma_start_read(), include/linux/mm.h, as v6.4: <c>vma->vm_lock_seq == READ_ONCE(vma->vm_mm->mm_lock_seq)</c>.</summary>
        protected override bool VmaStartReadRecheck(VmAreaStruct vma) =>
            vma.VmLockSeq.Plain() == vma.VmMm.MmLockSeq.ReadOnce();
    }
}
