using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// queue_pages_range() before 49b0638502da ("mm: enable page walking API to lock vmas during the
/// walk"): mbind()'s page walk runs under mmap_lock held for write but locks no VMA, which kept page
/// faults out only until they ran under a VMA read lock. A fault that maps a page into the range
/// after the walk has scanned it leaves the page out of the migration: the fix's message names
/// do_mbind()'s queue_pages_range() as the sample issue.
/// </summary>
public sealed class MbindWalkUnlocked : Mutant
{
    public override string Name => "mbind-walk-unlocked";

    public override string Description => "queue_pages_range() walks with queue_pages_walk_ops (PGWALK_RDLOCK) whatever the caller asks: mbind()'s walk write-locks no VMA, so a fault maps a page into the scanned range before the section ends";

    public override string Origin => "reverts 49b0638502da (mm: enable page walking API to lock vmas during the walk; v6.5, and 6.4 stable) in v7.0's queue_pages_range()";

    public override string Scenario => "mbind-vs-fault";

    public override string CaughtBy => nameof(NoPageMissedByMigration);

    public override IReadOnlyList<string> Replaces => ["queue_pages_range"];

    /// <summary>The generation with mbind() ported.</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } = [MutantKernel.On("7.0", w => new On7_0(w))];

    /// <summary>queue_pages_range() before the fix.</summary>
    public interface Patch : Linux7_0
    {
        /// <summary>queue_pages_range(), mm/mempolicy.c (v7.0), as before 49b0638502da: the one walk_page_range() with queue_pages_walk_ops, which locks no VMA.</summary>
        long Linux7_0.QueuePagesRange(MmStruct mm, ulong start, ulong end, ulong nodes, MpolMf flags, List<Folio> pagelist)
        {
            using var fn = this.World.Enter("queue_pages_range", $"{VmAreaStruct.Hex(start)}, {VmAreaStruct.Hex(end)}, {flags}");
            var qp = new QueuePages(pagelist, flags, nodes, start, end);

            long err = this.WalkPageRange(mm, start, end, this.QueuePagesWalkOps, qp);

            if (qp.First is null)
            {
                err = -Errno.EFAULT; // whole range in hole
            }

            return fn.Returns(err != 0 ? err : qp.NrFailed);
        }
    }

    private sealed class On7_0(KernelWorld world) : Booted(world), Patch;
}
