using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// mbind(MPOL_BIND to node 1, MPOL_MF_MOVE) of vma1's lower page while page faults write to it:
/// do_mbind() scans the page under mmap_lock held for write for the folios to migrate
/// (queue_pages_range(), which write-locks vma1 first: 49b0638502da), splits vma1 at the end of
/// the range and sets the lower part's policy, and migrates after mmap_write_unlock(). A fault
/// under vma1's read lock must map its page before the scan, to be queued, or wait for the section
/// to end and allocate under the new policy; one that maps it after the scan leaves it out of the
/// migration (docs/what-is-checked.md). The upper page's faults (odd readers) run in the part the
/// split makes new. From v7.0.
/// </summary>
public sealed class MbindVsFault : Scenario
{
    public override string Name => "mbind-vs-fault";

    public override string Description => "mbind(MPOL_BIND, MPOL_MF_MOVE) of vma1's lower page (queue_pages_range() write-locking vma1, then __split_vma() and vma_replace_policy()) while faults write to vma1's lower and upper pages";

    public override bool RunsOn(GenerationInfo generation) => FromV7_0(generation);

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var mainline = kernel.Linux as Linux7_0 ?? throw new InvalidOperationException("mbind() is ported from v7.0");
        var faults = Faults(kernel, mm, readers, i => i % 2 == 0 ? Vma1Start : Vma1Start + PageTable.PageSize);
        var writer = Writer(kernel, "writer", mm, () => mainline.DoMbind(mm, Vma1Start, PageTable.PageSize, MpolMode.Bind, nmask: 1UL << 1, MpolMf.Move));
        return Task.WhenAll(faults.Append(writer));
    }
}
